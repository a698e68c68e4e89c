import type { Doc, DocCollection, DocFilter, DocStores, FindOptions } from '../src/index.js';

/**
 * An in-process document store with FerretDB v1's concurrency semantics, for the tests that
 * run without a server (see docs/backends/mongodb.md, "Testing"):
 *
 * - an insert whose `_id` exists fails — atomically (PostgreSQL's unique index in FerretDB);
 * - `updateOne` reads the first match, yields to the event loop, then writes the WHOLE document
 *   it read (with `$set`/`$unset` applied) back by `_id`, without re-checking the filter — so
 *   concurrent updates are lost and two "conditional" updates can both succeed;
 * - `deleteMany` reads the matching ids, yields, then deletes those ids.
 *
 * Every operation yields at least once, so concurrent callers interleave as they would over a
 * socket. Values are deep-copied in and out (Dates stay Dates).
 */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

function cmp(a: unknown, b: unknown): number {
  const norm = (v: unknown) => (v instanceof Date ? v.getTime() : v);
  const x = norm(a);
  const y = norm(b);
  if (x === y) return 0;
  // missing/null sorts first, as in MongoDB
  if (x === undefined || x === null) return -1;
  if (y === undefined || y === null) return 1;
  return (x as number | string) < (y as number | string) ? -1 : 1;
}

function eq(a: unknown, b: unknown): boolean {
  return cmp(a, b) === 0 && (a === undefined) === (b === undefined);
}

function matchField(value: unknown, cond: unknown): boolean {
  if (cond !== null && typeof cond === 'object' && !(cond instanceof Date) && !Array.isArray(cond)) {
    return Object.entries(cond as Record<string, unknown>).every(([op, arg]) => {
      switch (op) {
        case '$in':
          return (arg as unknown[]).some((a) => eq(value, a));
        case '$ne':
          return !eq(value, arg);
        case '$lt':
          return value !== undefined && value !== null && cmp(value, arg) < 0;
        case '$lte':
          return value !== undefined && value !== null && cmp(value, arg) <= 0;
        case '$gt':
          return value !== undefined && value !== null && cmp(value, arg) > 0;
        case '$gte':
          return value !== undefined && value !== null && cmp(value, arg) >= 0;
        default:
          throw new Error(`ferret-like store: unsupported operator ${op}`);
      }
    });
  }
  return eq(value, cond);
}

export function matches(doc: Doc, filter: DocFilter): boolean {
  return Object.entries(filter).every(([field, cond]) => matchField(doc[field], cond));
}

export class FerretLikeCollection implements DocCollection {
  readonly docs = new Map<string, Doc>();
  readonly indexes = new Map<string, string>();
  /** operations served, for tests that count round trips */
  ops = 0;

  async insertOne(doc: Doc): Promise<boolean> {
    this.ops++;
    await tick();
    if (this.docs.has(doc._id)) return false;
    this.docs.set(doc._id, structuredClone(doc));
    return true;
  }

  async insertMany(docs: readonly Doc[]): Promise<Set<number>> {
    this.ops++;
    await tick();
    const dups = new Set<number>();
    docs.forEach((doc, i) => {
      if (this.docs.has(doc._id)) dups.add(i);
      else this.docs.set(doc._id, structuredClone(doc));
    });
    return dups;
  }

  private select(filter: DocFilter, options: FindOptions = {}): Doc[] {
    let out = [...this.docs.values()].filter((d) => matches(d, filter));
    if (options.sort) {
      const keys = Object.entries(options.sort);
      out.sort((a, b) => {
        for (const [k, dir] of keys) {
          const c = cmp(a[k], b[k]);
          if (c !== 0) return c * dir;
        }
        return 0;
      });
    }
    if (options.skip) out = out.slice(options.skip);
    if (options.limit) out = out.slice(0, options.limit);
    return out.map((d) => structuredClone(d));
  }

  async find(filter: DocFilter, options: FindOptions = {}): Promise<Doc[]> {
    this.ops++;
    await tick();
    return this.select(filter, options);
  }

  async findOne(filter: DocFilter): Promise<Doc | null> {
    this.ops++;
    await tick();
    return this.select(filter, { limit: 1 })[0] ?? null;
  }

  async updateOne(
    filter: DocFilter,
    set: Record<string, unknown>,
    unset: readonly string[] = [],
  ): Promise<number> {
    this.ops++;
    await tick();
    const [read] = this.select(filter, { limit: 1 });
    if (!read) return 0;
    // FerretDB v1: modify the copy that was read, in Go, then write it back by _id — later
    await tick();
    for (const [k, v] of Object.entries(structuredClone(set))) read[k] = v;
    for (const k of unset) delete read[k];
    if (this.docs.has(read._id)) this.docs.set(read._id, read);
    return 1;
  }

  async deleteMany(filter: DocFilter): Promise<number> {
    this.ops++;
    await tick();
    const ids = this.select(filter).map((d) => d._id);
    await tick();
    let n = 0;
    for (const id of ids) if (this.docs.delete(id)) n++;
    return n;
  }

  async count(filter: DocFilter): Promise<number> {
    this.ops++;
    await tick();
    return this.select(filter).length;
  }

  async distinct(field: string, filter: DocFilter): Promise<unknown[]> {
    this.ops++;
    await tick();
    return [...new Set(this.select(filter).map((d) => d[field]))].filter((v) => v !== undefined);
  }

  async createIndex(name: string, keys: Record<string, 1 | -1>): Promise<void> {
    this.ops++;
    await tick();
    const spec = JSON.stringify(Object.entries(keys));
    const had = this.indexes.get(name);
    if (had !== undefined && had !== spec) throw new Error(`index ${name} exists with different keys`);
    this.indexes.set(name, spec);
  }
}

/** One shared "server": every `view()` reaches the same data, as separate connections would. */
export class FerretLikeServer {
  readonly jobs = new FerretLikeCollection();
  readonly fence = new FerretLikeCollection();
  readonly keys = new FerretLikeCollection();
  private static count = 0;
  readonly label = `ferret-like-${++FerretLikeServer.count}`;

  view(): DocStores {
    return { jobs: this.jobs, fence: this.fence, keys: this.keys, label: this.label, close: async () => {} };
  }
}
