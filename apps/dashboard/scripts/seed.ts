import { type AddOptions, type Backend, Client, type JobError } from '@ilkkun/core';

/**
 * Test and screenshot data, written through core's public API only (a Client to add, a
 * pop + requeue to bury), so it is valid on every backend.
 */

export const XSS_PAYLOAD = {
  html: '<img src=x onerror="window.__xss=1">',
  script: '<script>window.__xss=2</script>',
  note: 'both must render as text',
};
export const XSS_ERROR = '<img src=x onerror="window.__xss=3"> failed <b>bold</b>';
export const XSS_UNIQUE_KEY = '<svg onload="window.__xss=4"><b>key</b>';

/** Add a job and send it to `dead` with this error, the way a runner buries a job whose attempts ran out. */
export async function addDeadJob(
  backend: Backend,
  queue: string,
  payload: unknown,
  error: { message: string; name?: string; stack?: string },
  options: AddOptions = {},
): Promise<string> {
  const client = new Client(backend);
  const { id } = await client.add(queue, payload, { attempts: 1, ...options });
  // A queue holding other ready jobs could hand out another one: bury only what was just added.
  const [leased] = await backend.pop([queue], { max: 1, leaseMs: 60_000 });
  if (!leased || leased.id !== id) {
    throw new Error(
      `addDeadJob needs ${queue} to hold no other ready job (popped ${leased?.id ?? 'nothing'})`,
    );
  }
  const jobError: JobError = { message: error.message, attempt: leased.attemptsMade, at: new Date() };
  if (error.name !== undefined) jobError.name = error.name;
  if (error.stack !== undefined) jobError.stack = error.stack;
  await backend.requeue(leased, { dead: true, error: jobError });
  return id;
}

export function fakeStack(message: string, fn: string): string {
  return [
    `Error: ${message}`,
    `    at ${fn} (file:///srv/app/workers/${fn}.js:42:11)`,
    '    at runHandler (file:///srv/app/node_modules/@ilkkun/runner/dist/job-run.js:88:24)',
    '    at async Slot.run (file:///srv/app/node_modules/@ilkkun/runner/dist/slot.js:51:7)',
  ].join('\n');
}

/** A small realistic picture: a few queues, jobs waiting, scheduled, and dead with stacks, and one XSS attempt. */
export async function seedDemo(backend: Backend): Promise<{ deadIds: string[]; xssId: string }> {
  const client = new Client(backend);
  const deadIds: string[] = [];
  deadIds.push(
    await addDeadJob(
      backend,
      'emails',
      { to: 'ana@example.com', template: 'welcome', locale: 'pt-BR' },
      {
        name: 'SmtpError',
        message: '421 4.7.0 Try again later, closing connection',
        stack: fakeStack('421 4.7.0 Try again later, closing connection', 'sendMail'),
      },
    ),
  );
  deadIds.push(
    await addDeadJob(
      backend,
      'emails',
      {
        to: 'bo@example.com',
        template: 'invoice',
        invoiceId: 'INV-2026-0042',
        amount: { value: 129.9, currency: 'EUR' },
      },
      {
        name: 'TypeError',
        message: "Cannot read properties of undefined (reading 'email')",
        stack: fakeStack("Cannot read properties of undefined (reading 'email')", 'renderInvoice'),
      },
    ),
  );
  const xssId = await addDeadJob(backend, 'image.thumbnail', XSS_PAYLOAD, {
    name: 'Error',
    message: XSS_ERROR,
    stack: fakeStack(XSS_ERROR, 'thumbnail'),
  });
  const emails = [
    'carla@example.com',
    'dmitri@example.com',
    'eun-ji@example.com',
    'farid@example.com',
    'grace@example.com',
    'hiro@example.com',
  ];
  await client.addMany(
    emails.map((to, i) => ({
      queue: 'emails',
      payload: { to, template: i % 2 ? 'digest' : 'welcome' },
      priority: i === 0 ? 5 : 0,
    })),
  );
  await client.addMany([
    { queue: 'emails', payload: { to: 'ivan@example.com', template: 'reminder' }, delay: 3_600_000 },
    { queue: 'emails', payload: { to: 'june@example.com', template: 'reminder' }, delay: 7_200_000 },
  ]);
  await client.addMany(
    [640, 320, 160].map((width) => ({
      queue: 'image.thumbnail',
      payload: { src: 's3://photos/2026/07/beach.jpg', width },
    })),
  );
  await client.addMany(
    ['order.created', 'order.paid', 'order.shipped', 'order.paid'].map((event, i) => ({
      queue: 'MyApp::Worker::Notify',
      payload: { event, orderId: 9000 + i, channels: ['push', 'sms'] },
    })),
  );
  return { deadIds, xssId };
}
