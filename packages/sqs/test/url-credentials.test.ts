import { hasErrorCode } from '@ilkkun/core';
import { describe, expect, it } from 'vitest';
import { parseSqsUrl } from '../src/parse-url.js';

// Issue 13: docs/configuration.md listed `?password=` and `?secretAccessKey=` as redacted URL
// secrets, and SQS refused them as "unknown" without saying where credentials go.
describe('credentials in an sqs URL', () => {
  it.each(['password', 'secretAccessKey', 'accessKeyId', 'sessionToken'])(
    '?%s= is refused with CONFIG, saying where credentials go, never echoing the value',
    (key) => {
      const url = `sqs://127.0.0.1:4566?region=us-east-1&tls=false&${key}=s3cr3t-v4lue`;
      let err: unknown;
      try {
        parseSqsUrl(url);
      } catch (e) {
        err = e;
      }
      expect(hasErrorCode(err, 'CONFIG')).toBe(true);
      const message = (err as Error).message;
      expect(message).toContain(`carries a credential in its query ("${key}")`);
      expect((err as { hint?: string }).hint).toContain(`remove "${key}" from the URL`);
      expect(message).toContain('AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY');
      expect(message).not.toContain('s3cr3t-v4lue');
    },
  );
});
