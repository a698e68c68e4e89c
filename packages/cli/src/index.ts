export { globalOptions, importer, resolveUrl, withBackend } from './context.js';
export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from './errors.js';
export { type CommandModule, createProgram, main } from './program.js';
