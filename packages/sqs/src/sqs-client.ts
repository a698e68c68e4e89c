import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import type { ResolvedSqsOptions } from './options.js';
import type { ParsedSqsUrl } from './parse-url.js';

/**
 * The SDK client for a parsed URL. With an endpoint (emulator, VPC endpoint) requests go there;
 * without one the SDK picks AWS's endpoint for the region. `useQueueUrlAsEndpoint: false` keeps the
 * SDK from sending to the host inside queue URLs (fauxqs names `sqs.<region>.localhost`, which
 * does not resolve everywhere). Credentials: the code option, else the profile, else the SDK's
 * default chain (environment, SSO, shared config, container/instance role).
 */
export function createSqsClient(target: ParsedSqsUrl, options: ResolvedSqsOptions): SQSClient {
  const config: SQSClientConfig = {
    region: options.region,
    useQueueUrlAsEndpoint: false,
    // the SDK retries throttling and 5xx itself (exponential backoff); more would only delay errors
    maxAttempts: 3,
    requestHandler: {
      // a long poll holds a request open up to longPollSeconds; anything far beyond is a dead socket
      requestTimeout: (options.longPollSeconds + 10) * 1000,
      connectionTimeout: 5000,
      // concurrent receivers, batched sends/deletes and long polls all need sockets at once
      httpAgent: { keepAlive: true, maxSockets: 256 },
      httpsAgent: { keepAlive: true, maxSockets: 256 },
    },
  };
  if (target.endpoint) config.endpoint = target.endpoint;
  if (options.credentials) config.credentials = options.credentials;
  else if (options.profile) config.profile = options.profile;
  else if (isLoopbackEndpoint(target.endpoint) && !hasEnvironmentCredentials()) {
    // A local emulator (fauxqs, LocalStack) accepts any key; requiring AWS credentials to talk to
    // 127.0.0.1 would only make `ilkkun conformance sqs://127.0.0.1:4566…` fail on a fresh machine.
    // Real AWS is never on loopback, so these placeholders can never reach it.
    config.credentials = { accessKeyId: 'local-emulator', secretAccessKey: 'local-emulator' };
  }
  return new SQSClient(config);
}

/** Where requests go, for messages (never anything secret). */
export function describeEndpoint(target: ParsedSqsUrl, options: ResolvedSqsOptions): string {
  return target.endpoint ? `${target.endpoint} (${options.region})` : `AWS SQS ${options.region}`;
}

function isLoopbackEndpoint(endpoint: string | undefined): boolean {
  if (!endpoint) return false;
  try {
    const host = new URL(endpoint).hostname;
    return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}

function hasEnvironmentCredentials(): boolean {
  return Boolean(
    process.env['AWS_ACCESS_KEY_ID'] ||
      process.env['AWS_PROFILE'] ||
      process.env['AWS_WEB_IDENTITY_TOKEN_FILE'],
  );
}
