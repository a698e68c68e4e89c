import { InvalidQueueNameError } from '@ilkkun/core';
import type { RowDataPacket } from 'mysql2/promise';
import { classifyError } from './classify-error.js';
import type { Database } from './db.js';
import type { SqlKit } from './sql.js';

interface FuncRow extends RowDataPacket {
  funcid: number;
  funcname: string;
}

/**
 * Queue name ↔ `funcmap.funcid`, as TheSchwartz's `FuncMap::create_or_find` does it: look up,
 * insert when absent, and on a UNIQUE race look up again. Queue names come validated from core
 * (`[A-Za-z0-9_.:-]{1,200}`), so a Perl worker class name such as `MyApp::Worker::Notify` maps
 * to itself byte for byte. Found ids are cached for the life of the backend (funcmap rows are
 * never deleted); absent ones are not, so a queue another process creates later is seen at once.
 */
export class FuncMap {
  private readonly ids = new Map<string, number>();
  private readonly names = new Map<number, string>();

  constructor(
    private readonly db: Database,
    private readonly kit: SqlKit,
  ) {}

  /** `SELECT <id> AS funcid, <name> AS funcname FROM <queue table>` for this flavour */
  private get select(): string {
    const k = this.kit;
    return `SELECT ${k.funcTableId} AS \`funcid\`, ${k.funcTableName} AS \`funcname\` FROM ${k.funcTable}`;
  }

  /** The funcid of an existing queue, or undefined when nothing was ever pushed to it. */
  async lookup(queue: string): Promise<number | undefined> {
    const cached = this.ids.get(queue);
    if (cached !== undefined) return cached;
    const [row] = await this.db.query<FuncRow[]>(
      `${this.select} WHERE ${this.kit.funcTableName} = ?`,
      [queue],
      { action: 'funcmap' },
    );
    if (!row) return undefined;
    return this.remember(queue, row);
  }

  /** The funcid of a queue, creating its funcmap row when needed. */
  async ensure(queue: string): Promise<number> {
    for (let tries = 0; tries < 3; tries++) {
      const found = await this.lookup(queue);
      if (found !== undefined) return found;
      try {
        // safe to repeat after a lost connection: a second insert of the name is a duplicate
        await this.db.query(
          `INSERT INTO ${this.kit.funcTable} (${this.kit.funcTableName}) VALUES (?)`,
          [queue],
          {
            action: 'funcmap',
          },
        );
      } catch (err) {
        // another process inserted the same name first: look it up again
        if (classifyError(err) !== 'duplicate') throw err;
      }
    }
    throw new Error(`funcmap: could not create or find ${queue}`);
  }

  /** Queue names of funcids, looking up the ones not cached yet. */
  async namesOf(funcids: readonly number[]): Promise<Map<number, string>> {
    const missing = [...new Set(funcids)].filter((id) => !this.names.has(id));
    if (missing.length > 0) {
      const rows = await this.db.query<FuncRow[]>(
        `${this.select} WHERE ${this.kit.funcTableId} IN (${missing.map(() => '?').join(', ')})`,
        missing,
        { action: 'funcmap' },
      );
      for (const row of rows) this.names.set(Number(row.funcid), row.funcname);
    }
    return new Map(funcids.map((id) => [id, this.names.get(id) ?? `funcid:${id}`]));
  }

  private remember(queue: string, row: FuncRow): number {
    // A case-insensitive collation on a Perl-created funcmap maps "Foo" and "foo" to one row.
    // Sharing it would mix two queues, so the exact spelling must match.
    if (row.funcname !== queue) {
      throw new InvalidQueueNameError(
        queue,
        `funcmap already holds ${JSON.stringify(row.funcname)}, which this database's collation treats as the same name`,
      );
    }
    const id = Number(row.funcid);
    this.ids.set(queue, id);
    this.names.set(id, queue);
    return id;
  }
}
