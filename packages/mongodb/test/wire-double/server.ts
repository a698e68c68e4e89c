import { createServer, type Server, type Socket } from 'node:net';
import { BSON, type Document, Long } from 'bson';
import type { Doc } from '../../src/index.js';
import { FerretLikeCollection } from '../ferret-like-store.js';

/**
 * A loopback Mongo-wire-protocol test double over `FerretLikeCollection`: enough of OP_MSG /
 * OP_QUERY for the official `mongodb` driver to run the backend (insert, find, update, delete,
 * aggregate-count, distinct, createIndexes, drop), with FerretDB v1's concurrency semantics
 * (non-atomic updates; unique `_id` inserts are the only atomic primitive).
 *
 * It exists because the FerretDB module is not obtainable on this machine's Go proxy: it lets
 * the real driver adapter and the second-OS-process case run in `pnpm test`. It is NOT evidence
 * about MongoDB or FerretDB themselves — `pnpm test` against a real server is.
 */
const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;

export class WireDouble {
  private readonly collections = new Map<string, FerretLikeCollection>();
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  private requestId = 1;
  private connections = 0;

  collection(db: string, name: string): FerretLikeCollection {
    const ns = `${db}.${name}`;
    let c = this.collections.get(ns);
    if (!c) {
      c = new FerretLikeCollection();
      this.collections.set(ns, c);
    }
    return c;
  }

  async listen(port = 0): Promise<number> {
    const server = createServer((socket) => this.serve(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    if (!addr || typeof addr === 'string') throw new Error('wire double: no port');
    return addr.port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    const connectionId = ++this.connections;
    let buf = Buffer.alloc(0);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 4 && buf.length >= buf.readInt32LE(0)) {
        const len = buf.readInt32LE(0);
        const msg = buf.subarray(0, len);
        buf = buf.subarray(len);
        void this.handle(msg, connectionId).then(
          (reply) => {
            if (!socket.destroyed) socket.write(reply);
          },
          () => socket.destroy(),
        );
      }
    });
  }

  private async handle(msg: Buffer, connectionId: number): Promise<Buffer> {
    const requestId = msg.readInt32LE(4);
    const opCode = msg.readInt32LE(12);
    if (opCode === OP_QUERY) {
      let at = 20;
      const nsEnd = msg.indexOf(0, at);
      const ns = msg.toString('utf8', at, nsEnd);
      at = nsEnd + 1 + 8;
      const query = BSON.deserialize(msg.subarray(at, at + msg.readInt32LE(at)));
      const reply = await this.command(ns.split('.')[0] ?? 'admin', query, connectionId);
      return this.frame(OP_REPLY, requestId, [
        (() => {
          const head = Buffer.alloc(20);
          head.writeInt32LE(0, 0); // flags
          head.writeBigInt64LE(0n, 4); // cursor id
          head.writeInt32LE(0, 12); // starting from
          head.writeInt32LE(1, 16); // number returned
          return head;
        })(),
        Buffer.from(BSON.serialize(reply)),
      ]);
    }
    if (opCode !== OP_MSG) throw new Error(`wire double: opcode ${opCode}`);
    const flags = msg.readUInt32LE(16);
    const end = flags & 1 ? msg.length - 4 : msg.length;
    let at = 20;
    let body: Document = {};
    while (at < end) {
      const kind = msg.readUInt8(at++);
      const size = msg.readInt32LE(at);
      if (kind === 0) {
        body = BSON.deserialize(msg.subarray(at, at + size));
        at += size;
      } else {
        const sectionEnd = at + size;
        const idEnd = msg.indexOf(0, at + 4);
        const id = msg.toString('utf8', at + 4, idEnd);
        const docs: Document[] = [];
        for (let p = idEnd + 1; p < sectionEnd; p += msg.readInt32LE(p)) {
          docs.push(BSON.deserialize(msg.subarray(p, p + msg.readInt32LE(p))));
        }
        body[id] = docs;
        at = sectionEnd;
      }
    }
    const reply = await this.command(String(body['$db'] ?? 'admin'), body, connectionId);
    const head = Buffer.alloc(5);
    return this.frame(OP_MSG, requestId, [head, Buffer.from(BSON.serialize(reply))]);
  }

  private frame(opCode: number, responseTo: number, parts: Buffer[]): Buffer {
    const header = Buffer.alloc(16);
    const body = Buffer.concat(parts);
    header.writeInt32LE(16 + body.length, 0);
    header.writeInt32LE(this.requestId++, 4);
    header.writeInt32LE(responseTo, 8);
    header.writeInt32LE(opCode, 12);
    return Buffer.concat([header, body]);
  }

  private async command(db: string, cmd: Document, connectionId: number): Promise<Document> {
    const name = Object.keys(cmd)[0] ?? '';
    const coll = () => this.collection(db, String(cmd[name]));
    switch (name) {
      case 'hello':
      case 'isMaster':
      case 'ismaster':
        return {
          ismaster: true,
          isWritablePrimary: true,
          helloOk: true,
          maxBsonObjectSize: 16 * 1024 * 1024,
          maxMessageSizeBytes: 48_000_000,
          maxWriteBatchSize: 100_000,
          localTime: new Date(),
          connectionId,
          minWireVersion: 0,
          maxWireVersion: 21,
          readOnly: false,
          ok: 1,
        };
      case 'ping':
      case 'endSessions':
        return { ok: 1 };
      case 'buildInfo':
      case 'buildinfo':
        return { version: '7.0.42', versionArray: [7, 0, 42, 0], ok: 1 };
      case 'insert': {
        const c = coll();
        const docs = (cmd['documents'] ?? []) as Doc[];
        const writeErrors: Document[] = [];
        let n = 0;
        for (const [index, doc] of docs.entries()) {
          if (await c.insertOne(doc)) n++;
          else {
            writeErrors.push({ index, code: 11000, errmsg: `E11000 duplicate key error collection: ${db}` });
            if (cmd['ordered'] !== false) break;
          }
        }
        return writeErrors.length ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
      }
      case 'find': {
        const docs = await coll().find((cmd['filter'] ?? {}) as Doc, {
          sort: cmd['sort'] as Record<string, 1 | -1> | undefined,
          skip: cmd['skip'] as number | undefined,
          limit: Math.abs((cmd['limit'] as number | undefined) ?? 0) || undefined,
          fields: cmd['projection'] ? Object.keys(cmd['projection'] as Document) : undefined,
        });
        const projected = cmd['projection']
          ? docs.map((d) =>
              Object.fromEntries(
                Object.entries(d).filter(([k]) => k === '_id' || k in (cmd['projection'] as Document)),
              ),
            )
          : docs;
        return { cursor: { firstBatch: projected, id: Long.fromNumber(0), ns: `${db}.${cmd[name]}` }, ok: 1 };
      }
      case 'update': {
        const c = coll();
        let n = 0;
        for (const u of (cmd['updates'] ?? []) as Document[]) {
          const update = u['u'] as Document;
          const set = (update['$set'] ?? {}) as Record<string, unknown>;
          const unset = Object.keys((update['$unset'] ?? {}) as Document);
          n += await c.updateOne(u['q'] as Doc, set, unset);
        }
        return { n, nModified: n, ok: 1 };
      }
      case 'delete': {
        const c = coll();
        let n = 0;
        for (const d of (cmd['deletes'] ?? []) as Document[]) n += await c.deleteMany(d['q'] as Doc);
        return { n, ok: 1 };
      }
      case 'aggregate': {
        // only what countDocuments sends: [{$match}, ({$skip}/{$limit})?, {$group:{_id:1,n:{$sum:1}}}]
        const pipeline = cmd['pipeline'] as Document[];
        const match = (pipeline.find((s) => '$match' in s)?.['$match'] ?? {}) as Doc;
        const n = await coll().count(match);
        return {
          cursor: {
            firstBatch: n > 0 ? [{ _id: 1, n }] : [],
            id: Long.fromNumber(0),
            ns: `${db}.${cmd[name]}`,
          },
          ok: 1,
        };
      }
      case 'distinct':
        return { values: await coll().distinct(String(cmd['key']), (cmd['query'] ?? {}) as Doc), ok: 1 };
      case 'createIndexes': {
        const c = coll();
        for (const ix of cmd['indexes'] as Document[]) {
          await c.createIndex(String(ix['name']), ix['key'] as Record<string, 1 | -1>);
        }
        return { ok: 1 };
      }
      case 'drop':
        this.collections.delete(`${db}.${cmd[name]}`);
        return { ok: 1 };
      case 'dropDatabase':
        for (const ns of [...this.collections.keys()])
          if (ns.startsWith(`${db}.`)) this.collections.delete(ns);
        return { ok: 1 };
      default:
        return { ok: 0, errmsg: `no such command: '${name}'`, code: 59, codeName: 'CommandNotFound' };
    }
  }
}
