import type { Collection, Db, Document, Filter, MongoClient } from 'mongodb';
import { MongoBulkWriteError, MongoServerError } from 'mongodb';

/**
 * The narrow slice of a document store the backend uses. Every call is a single-document or
 * plain multi-document operation that MongoDB and FerretDB both implement; the protocol in
 * `mongodb-backend.ts` relies for exclusion on exactly one guarantee: **an insert whose `_id`
 * already exists fails** (E11000). Updates and deletes may be non-atomic (FerretDB v1 reads,
 * modifies in Go and writes the document back without re-checking the filter), and the
 * protocol is written so that a lost or late update never hands a job to two holders.
 */
export type Doc = { _id: string } & Record<string, unknown>;

/** Filters use only equality and `$in`/`$lt`/`$lte`/`$gt`/`$gte`/`$ne` on top-level fields. */
export type DocFilter = Record<string, unknown>;

export interface FindOptions {
  /** field → 1 | -1, applied in key order */
  sort?: Record<string, 1 | -1>;
  skip?: number;
  limit?: number;
  /** fields to return (inclusion) */
  fields?: readonly string[];
}

export interface DocCollection {
  /** false when a document with that `_id` exists (the one atomic primitive the protocol uses) */
  insertOne(doc: Doc): Promise<boolean>;
  /** unordered; the set holds the indexes of documents refused as duplicate `_id`s */
  insertMany(docs: readonly Doc[]): Promise<Set<number>>;
  find(filter: DocFilter, options?: FindOptions): Promise<Doc[]>;
  findOne(filter: DocFilter): Promise<Doc | null>;
  /** `$set` / `$unset` of top-level fields on the first match; returns how many matched (0 or 1) */
  updateOne(filter: DocFilter, set: Record<string, unknown>, unset?: readonly string[]): Promise<number>;
  deleteMany(filter: DocFilter): Promise<number>;
  count(filter: DocFilter): Promise<number>;
  distinct(field: string, filter: DocFilter): Promise<unknown[]>;
  /** idempotent: the same spec again is a no-op */
  createIndex(name: string, keys: Record<string, 1 | -1>): Promise<void>;
}

/** The three collections of one ilkkun namespace (see docs/backends/mongodb.md). */
export interface DocStores {
  /** one document per job */
  jobs: DocCollection;
  /** lease and outcome documents: one of each per claim at most, keyed by `_id` */
  fence: DocCollection;
  /** held unique keys: `_id` = [queue, uniqueKey] */
  keys: DocCollection;
  /** a label for messages (no credentials) */
  readonly label: string;
  close(): Promise<void>;
}

const DUPLICATE_KEY = 11000;

function isDuplicate(err: unknown): boolean {
  return err instanceof MongoServerError && err.code === DUPLICATE_KEY;
}

class MongoCollection implements DocCollection {
  constructor(private readonly c: Collection<Doc>) {}

  async insertOne(doc: Doc): Promise<boolean> {
    try {
      await this.c.insertOne(doc);
      return true;
    } catch (err) {
      if (isDuplicate(err)) return false;
      throw err;
    }
  }

  async insertMany(docs: readonly Doc[]): Promise<Set<number>> {
    const dups = new Set<number>();
    if (docs.length === 0) return dups;
    try {
      await this.c.insertMany(docs as Doc[], { ordered: false });
    } catch (err) {
      if (!(err instanceof MongoBulkWriteError)) throw err;
      const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
      for (const we of errors) {
        if (we.code !== DUPLICATE_KEY) throw err;
        dups.add(we.index);
      }
    }
    return dups;
  }

  find(filter: DocFilter, options: FindOptions = {}): Promise<Doc[]> {
    let cursor = this.c.find(filter as Filter<Doc>);
    if (options.sort) cursor = cursor.sort(options.sort);
    if (options.skip) cursor = cursor.skip(options.skip);
    if (options.limit) cursor = cursor.limit(options.limit);
    if (options.fields) cursor = cursor.project(Object.fromEntries(options.fields.map((f) => [f, 1])));
    return cursor.toArray() as Promise<Doc[]>;
  }

  findOne(filter: DocFilter): Promise<Doc | null> {
    return this.c.findOne(filter as Filter<Doc>) as Promise<Doc | null>;
  }

  async updateOne(
    filter: DocFilter,
    set: Record<string, unknown>,
    unset: readonly string[] = [],
  ): Promise<number> {
    const update: Document = { $set: set };
    if (unset.length > 0) update['$unset'] = Object.fromEntries(unset.map((f) => [f, '']));
    const res = await this.c.updateOne(filter as Filter<Doc>, update);
    return res.matchedCount;
  }

  async deleteMany(filter: DocFilter): Promise<number> {
    return (await this.c.deleteMany(filter as Filter<Doc>)).deletedCount;
  }

  count(filter: DocFilter): Promise<number> {
    return this.c.countDocuments(filter as Filter<Doc>);
  }

  distinct(field: string, filter: DocFilter): Promise<unknown[]> {
    return this.c.distinct(field, filter as Filter<Doc>);
  }

  async createIndex(name: string, keys: Record<string, 1 | -1>): Promise<void> {
    await this.c.createIndex(keys, { name });
  }
}

/** The store over a connected driver client (the same code for MongoDB and FerretDB). */
export function mongoStores(client: MongoClient, db: Db, prefix: string, label: string): DocStores {
  return {
    jobs: new MongoCollection(db.collection<Doc>(`${prefix}_jobs`)),
    fence: new MongoCollection(db.collection<Doc>(`${prefix}_fence`)),
    keys: new MongoCollection(db.collection<Doc>(`${prefix}_keys`)),
    label,
    close: () => client.close(),
  };
}
