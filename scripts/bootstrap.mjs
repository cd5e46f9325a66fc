#!/usr/bin/env node
/**
 * The README's commands on a fresh machine with only Node 20+: find or fetch
 * the pinned pnpm, install the workspace, build the packages, then run the
 * job. Dependency-free on purpose: it runs before anything is installed.
 *
 *   node scripts/bootstrap.mjs test [jest args...]   all tests
 *   node scripts/bootstrap.mjs demo [--nginx]         the apps behind a TLS proxy
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const pnpmVersion = manifest.packageManager.replace(/^pnpm@/, '');
const [job, ...args] = process.argv.slice(2);

function run(command, commandArgs, options = {}) {
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) process.exit(result.status ?? 1);
}

/** The pinned pnpm when it is on PATH, else the same version through npx. */
function pnpmCommand() {
  const probe = spawnSync('pnpm', ['--version'], { cwd: root, encoding: 'utf8' });
  if (probe.status === 0 && probe.stdout.trim() === pnpmVersion) return ['pnpm'];
  console.log(
    `bootstrap: using pnpm ${pnpmVersion} through npx (install it with npm install -g pnpm@${pnpmVersion})`,
  );
  return ['npx', '--yes', `pnpm@${pnpmVersion}`];
}

const [pnpm, ...pnpmPrefix] = pnpmCommand();
const pnpmRun = (...pnpmArgs) => run(pnpm, [...pnpmPrefix, ...pnpmArgs]);

pnpmRun('install', '--frozen-lockfile');
pnpmRun('run', 'build');

switch (job) {
  case 'test':
    pnpmRun('exec', 'jest', ...args);
    break;
  case 'demo':
    // examples/demo/src/main.ts through tsx, which resolves the workspace
    // packages to their sources with the root tsconfig's paths.
    pnpmRun('--filter', '@waitress-proxy/demo', 'exec', 'tsx', 'src/main.ts', ...args);
    break;
  default:
    console.error(`bootstrap: unknown job ${JSON.stringify(job)}; expected "test" or "demo"`);
    process.exit(2);
}
