import { ConfigError, redactUrl } from '@ilkkun/core';

/** Where an `sqs:` URL points, and its raw query parameters. */
export interface ParsedSqsUrl {
  /** `http(s)://host:port` for an emulator or a VPC endpoint; undefined = AWS's endpoint for the region */
  endpoint?: string;
  /** the URL's host (empty for AWS) */
  host: string;
  /** query parameters other than `tls`, not yet validated (see `resolveOptions`) */
  params: Record<string, string>;
}

/**
 * Query parameters that would carry a secret. Refused by name with where credentials go instead
 * (the generic "unknown parameter" would not say so); core's `redactUrl` hides their values.
 */
const CREDENTIAL_PARAMS =
  /^(password|secret|secretAccessKey|accessKeyId|sessionToken|token|apiKey|api_key)$/i;

const WHERE_CREDENTIALS_GO =
  'put them in the AWS environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), a profile (?profile=name) or an instance role instead';

const EXAMPLES =
  'sqs://127.0.0.1:4566?region=us-east-1&tls=false (an emulator), sqs://?region=eu-west-1 (AWS)';

/**
 * Parse `sqs://[host[:port]][?param=value…]` (also `sqs:?…`). With a host the client talks to
 * that endpoint (`tls=false` → http); without one, to AWS's endpoint for the region.
 * Credentials never belong in the URL: they come from the AWS chain (environment, profile, SSO,
 * instance role). Every message quotes the URL through core's `redactUrl`.
 */
export function parseSqsUrl(url: string): ParsedSqsUrl {
  const shown = JSON.stringify(redactUrl(url));
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`${shown} is not a valid sqs URL; expected e.g. ${EXAMPLES}`);
  }
  if (parsed.protocol.toLowerCase() !== 'sqs:') {
    throw new ConfigError(
      `${shown} is not an sqs URL (scheme ${parsed.protocol}); expected e.g. ${EXAMPLES}`,
    );
  }
  if (parsed.username || parsed.password) {
    throw new ConfigError(`sqs URL ${shown} carries credentials; ${WHERE_CREDENTIALS_GO}`);
  }
  if (parsed.hash) throw new ConfigError(`sqs URL ${shown} has a #fragment`);
  if (parsed.pathname !== '' && parsed.pathname !== '/') {
    throw new ConfigError(
      `sqs URL ${shown} has a path; queues are named by ilkkun, the URL names only the endpoint`,
    );
  }
  const params: Record<string, string> = {};
  let tls = true;
  for (const [key, value] of parsed.searchParams) {
    if (CREDENTIAL_PARAMS.test(key)) {
      // the URL is not quoted: redactUrl hides secret values, but not an access key id
      throw new ConfigError(
        `an sqs URL carries a credential in its query ("${key}"); SQS never takes credentials from the URL: ${WHERE_CREDENTIALS_GO}`,
        { hint: `remove "${key}" from the URL; ${WHERE_CREDENTIALS_GO}` },
      );
    }
    if (Object.hasOwn(params, key) || (key === 'tls' && parsed.searchParams.getAll('tls').length > 1)) {
      throw new ConfigError(`sqs URL parameter "${key}" is given twice`);
    }
    if (key === 'tls') {
      if (value !== 'true' && value !== 'false')
        throw new ConfigError('sqs URL parameter "tls" must be true or false');
      tls = value === 'true';
      continue;
    }
    params[key] = value;
  }
  const host = parsed.host;
  if (!host) {
    if (!tls)
      throw new ConfigError(`sqs URL ${shown}: tls=false needs a host (AWS's own endpoints are https only)`);
    return { host: '', params };
  }
  if (parsed.port !== '') {
    const port = Number(parsed.port);
    if (!Number.isInteger(port) || port < 1 || port > 65_535)
      throw new ConfigError(`sqs URL ${shown} has a bad port`);
  }
  return { endpoint: `${tls ? 'https' : 'http'}://${host}`, host: parsed.hostname, params };
}
