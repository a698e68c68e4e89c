import type { Redis } from 'ioredis';
import { classifyError, isNoScript } from './classify-error.js';
import { type LuaScript, SCRIPTS } from './scripts/index.js';

type Arg = string | number;

/**
 * Calls the Lua scripts by SHA (EVALSHA): each script's text crosses the wire once per server
 * (SCRIPT LOAD at connect). After a Redis restart or SCRIPT FLUSH the cache is empty; the first
 * call then gets NOSCRIPT (which guarantees nothing ran) and is repeated once as EVAL, which
 * caches the script again.
 *
 * Calls issued without awaiting each other go out back to back on the one connection, so a
 * `Promise.all` of several runs is one round trip.
 */
export class ScriptRunner {
  constructor(
    private readonly conn: Redis,
    private readonly where: string,
  ) {}

  async loadAll(): Promise<void> {
    try {
      await Promise.all(Object.values(SCRIPTS).map((s) => this.conn.script('LOAD', s.lua)));
    } catch (err) {
      throw classifyError(err, 'SCRIPT LOAD', this.where);
    }
  }

  async run(script: LuaScript, keys: readonly string[], args: readonly Arg[]): Promise<unknown> {
    try {
      return await this.conn.evalsha(script.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!isNoScript(err)) throw classifyError(err, script.name, this.where);
    }
    try {
      return await this.conn.eval(script.lua, keys.length, ...keys, ...args);
    } catch (err) {
      throw classifyError(err, script.name, this.where);
    }
  }
}
