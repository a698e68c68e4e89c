import { ConfigError } from './errors.js';

/** Where a backend option came from, for error messages. */
export type OptionSource = 'URL parameter' | 'option';

/**
 * Feed a backend's options to `apply`: the URL's query parameters (strings) first, then the
 * options given in code (typed values), so code wins. `undefined` code values are skipped.
 */
export function forEachOption(
  fromUrl: Readonly<Record<string, string>>,
  fromCode: Readonly<Record<string, unknown>>,
  apply: (source: OptionSource, key: string, value: unknown) => void,
): void {
  for (const [key, value] of Object.entries(fromUrl)) apply('URL parameter', key, value);
  for (const [key, value] of Object.entries(fromCode)) {
    if (value !== undefined) apply('option', key, value);
  }
}

/**
 * Readers for option values that may arrive as URL strings or as typed values. Every backend
 * refuses bad values the same way: a `ConfigError` naming the backend, the source and the key.
 */
export function optionReaders(backend: string) {
  const fail = (source: OptionSource, key: string, what: string) =>
    new ConfigError(`${backend} ${source} "${key}" must be ${what}`);
  return {
    fail,
    /** `unknown <backend> option "x"; known: …` */
    unknown(source: OptionSource, key: string, known: readonly string[]): ConfigError {
      return new ConfigError(`unknown ${backend} ${source} "${key}"; known: ${known.join(', ')}`);
    },
    integer(source: OptionSource, key: string, value: unknown, min: number, max: number): number {
      const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
        throw fail(source, key, `an integer between ${min} and ${max}`);
      }
      return n;
    },
    /** case-insensitive for strings */
    oneOf<T extends string>(source: OptionSource, key: string, value: unknown, allowed: readonly T[]): T {
      const v = typeof value === 'string' ? value.toLowerCase() : value;
      if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
      throw fail(source, key, `one of ${allowed.join(', ')}`);
    },
    /** true/false, or "true"/"false"/"1"/"0" */
    boolean(source: OptionSource, key: string, value: unknown): boolean {
      if (value === true || value === 'true' || value === '1') return true;
      if (value === false || value === 'false' || value === '0') return false;
      throw fail(source, key, 'true or false');
    },
  };
}
