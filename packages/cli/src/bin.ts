#!/usr/bin/env node
/** The `waitress-proxy` command: wires the process to `runCommand`. */
import { readFileSync } from 'node:fs';
import { runCommand } from './run.js';

process.exitCode = runCommand(process.argv.slice(2), {
  env: process.env,
  readInput: () => readFileSync(0, 'latin1'),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
