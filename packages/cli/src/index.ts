/**
 * @waitress-proxy/cli: the `waitress-proxy` command. `runCommand` is the
 * command as a function (arguments and streams in, exit status out).
 *
 * @packageDocumentation
 */
export { runCommand, EXIT } from './run.js';
export type { CommandIo } from './run.js';
export { USAGE } from './arguments.js';
