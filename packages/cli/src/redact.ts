import { redactUrl } from '@ilkkun/core';

/**
 * Credentials must never reach the terminal, a log or a CI transcript. Core's `redactUrl`
 * covers URLs the CLI prints itself; this scrubber is the last line of defence for text that
 * comes from elsewhere (a driver's error message, a stack trace, commander echoing argv).
 */

const SECRET_PARAMS = /^(password|secret|secretaccesskey|sessiontoken|token|apikey|api_key)$/i;

/** Passwords and secret query values found in anything that parses as a URL. */
export function secretsOf(candidates: Iterable<string>): string[] {
  const found = new Set<string>();
  for (const raw of candidates) {
    const text = raw.startsWith('--url=') ? raw.slice('--url='.length) : raw;
    if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(text)) continue;
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      continue;
    }
    const values: string[] = [];
    if (url.password) values.push(url.password);
    for (const [key, value] of url.searchParams) if (SECRET_PARAMS.test(key) && value) values.push(value);
    for (const value of values) {
      found.add(value);
      try {
        found.add(decodeURIComponent(value));
      } catch {
        // not percent-encoded: the raw form is enough
      }
    }
  }
  // Very short secrets would turn ordinary words into `***`; URL patterns still catch those.
  return [...found].filter((s) => s.length >= 3).sort((a, b) => b.length - a.length);
}

export function makeScrubber(candidates: Iterable<string>): (text: string) => string {
  const secrets = secretsOf(candidates);
  return (text) => {
    let out = redactUrl(text);
    for (const secret of secrets) out = out.split(secret).join('***');
    return out;
  };
}
