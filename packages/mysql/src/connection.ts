import type { RowDataPacket } from 'mysql2/promise';
import type { Database } from './db.js';
import { NOW_MS } from './sql.js';

/** What the backend needs to know about the server, read once at connect. */
export interface ServerInfo {
  flavor: 'mariadb' | 'mysql';
  version: string;
  /** `FOR UPDATE SKIP LOCKED` exists: MariaDB ≥ 10.6, MySQL ≥ 8.0.1 */
  skipLocked: boolean;
  /** multi-row INSERTs get consecutive ids (see PushDeps.multiRowIds) */
  multiRowIds: boolean;
  /** the binary, no-pad collation used for tables ilkkun creates */
  collation: string;
  /** the server clock at connect, with when it was asked and answered (local ms) */
  nowMs: number;
  sentAt: number;
  receivedAt: number;
}

interface ProbeRow extends RowDataPacket {
  version: string;
  lock_mode: number | null;
  increment: number;
  now_ms: string;
}

export async function probeServer(db: Database): Promise<ServerInfo> {
  const sentAt = Date.now();
  const [row] = await db.query<ProbeRow[]>(
    `SELECT VERSION() AS version, @@innodb_autoinc_lock_mode AS lock_mode,
            @@auto_increment_increment AS increment, ${NOW_MS} AS now_ms`,
    [],
    { action: 'connect' },
  );
  const receivedAt = Date.now();
  const version = String(row?.version ?? '');
  const flavor = /mariadb/i.test(version) ? 'mariadb' : 'mysql';
  const [major = 0, minor = 0, patch = 0] = (/^(\d+)\.(\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number);
  const at = (a: number, b: number, c: number) =>
    major > a || (major === a && (minor > b || (minor === b && patch >= c)));
  const skipLocked = flavor === 'mariadb' ? at(10, 6, 0) : at(8, 0, 1);
  const collation =
    flavor === 'mariadb' ? 'utf8mb4_nopad_bin' : at(8, 0, 0) ? 'utf8mb4_0900_bin' : 'utf8mb4_bin';
  return {
    flavor,
    version,
    skipLocked,
    multiRowIds: Number(row?.lock_mode) !== 2 && Number(row?.increment) === 1,
    collation,
    nowMs: Number(row?.now_ms),
    sentAt,
    receivedAt,
  };
}
