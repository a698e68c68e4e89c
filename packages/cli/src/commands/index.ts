// One line per command: each module exports `register(program)`.
export * as add from './add.js';
export * as chaos from './chaos.js';
export * as conformance from './conformance.js';
export * as dashboard from './dashboard.js';
export * as migrate from './migrate.js';
export * as stats from './stats.js';
export * as work from './work.js';
