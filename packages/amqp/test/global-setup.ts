import { redactUrl } from '@ilkkun/core';
import amqp from 'amqplib';

/**
 * The tests need a real RabbitMQ (never a mock). When it is not there the run fails loudly with
 * how to start it, instead of skipping and looking green.
 */
export default async function setup(): Promise<void> {
  const url = process.env['ILKKUN_AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';
  const probe = new URL(url);
  probe.search = '';
  try {
    const conn = await amqp.connect(probe.toString(), { timeout: 2000 });
    await conn.close();
  } catch (err) {
    throw new Error(
      `RabbitMQ not reachable at ${redactUrl(url)}; start it with: bash scripts/services/start.sh rabbitmq ` +
        `(${redactUrl(err instanceof Error ? err.message : String(err))})`,
    );
  }
}
