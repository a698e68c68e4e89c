import { ConfigError } from './errors.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

/** Validated `{ offset, limit }` for inspection listings, the same for every backend. */
export function pageBounds(options: { offset?: number; limit?: number } = {}): {
  offset: number;
  limit: number;
} {
  const offset = options.offset ?? 0;
  const limit = options.limit ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(offset) || offset < 0) throw new ConfigError('offset must be an integer ≥ 0');
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new ConfigError(`limit must be an integer between 1 and ${MAX_PAGE_SIZE}`);
  }
  return { offset, limit };
}
