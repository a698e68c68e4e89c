import { createHash } from 'node:crypto';
import { ACK } from './ack.js';
import { ACK_POP } from './ack-pop.js';
import { COUNTS } from './counts.js';
import { DELETE_JOBS } from './delete-jobs.js';
import { EXTEND } from './extend.js';
import { GET_JOB } from './get-job.js';
import { LIST } from './list.js';
import { POP } from './pop.js';
import { PRELUDE } from './prelude.js';
import { PURGE } from './purge.js';
import { PUSH } from './push.js';
import { REQUEUE } from './requeue.js';
import { RETRY_DEAD } from './retry-dead.js';
import { RING } from './ring.js';

/** A Lua script with its SHA1, so it is sent once (SCRIPT LOAD) and then called by hash. */
export interface LuaScript {
  readonly name: string;
  readonly lua: string;
  readonly sha: string;
}

function define(name: string, body: string): LuaScript {
  const lua = `-- ilkkun ${name}\n${PRELUDE}\n${body}`;
  return { name, lua, sha: createHash('sha1').update(lua).digest('hex') };
}

export const SCRIPTS = {
  push: define('push', PUSH),
  pop: define('pop', POP),
  ack: define('ack', ACK),
  ackPop: define('ack-pop', ACK_POP),
  requeue: define('requeue', REQUEUE),
  extend: define('extend', EXTEND),
  counts: define('counts', COUNTS),
  list: define('list', LIST),
  getJob: define('get-job', GET_JOB),
  retryDead: define('retry-dead', RETRY_DEAD),
  deleteJobs: define('delete-jobs', DELETE_JOBS),
  purge: define('purge', PURGE),
  ring: define('ring', RING),
} as const;

export type ScriptName = keyof typeof SCRIPTS;
