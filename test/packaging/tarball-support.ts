/**
 * What tarballs.test.ts needs to treat the packages as a user meets them:
 * pack them with pnpm as `pnpm publish` would, read a tarball without
 * unpacking it, install tarballs and registry packages into a fresh project
 * with npm, and run commands with a deadline, so that a registry that does not
 * answer fails the test with a message instead of hanging it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPOSITORY = resolve(__dirname, '../..');

/** A finished command: its output, whatever its exit status. */
export interface CommandResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The end of a long output, for an error message. */
function tail(text: string, lines = 25): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Runs a command and collects its output; kills it (and everything it
 * started: it leads its own process group) after `timeoutMs`. Rejects on a
 * non-zero exit or the deadline with a message naming the command, the
 * directory and the end of its output.
 */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; timeoutMs: number; env?: NodeJS.ProcessEnv; explain?: string },
): Promise<CommandResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }, options.timeoutMs);
    const describe = `\`${[command, ...args].join(' ')}\` in ${options.cwd}`;
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${describe} could not start: ${error.message}`));
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      if (!timedOut && status === 0) {
        resolvePromise({ status, stdout, stderr });
        return;
      }
      const what = timedOut
        ? `did not finish within ${options.timeoutMs / 1000} s and was stopped`
        : `exited with status ${String(status)}`;
      const hint = options.explain === undefined ? '' : `\n${options.explain}`;
      reject(
        new Error(`${describe} ${what}.${hint}\n--- output ---\n${tail(stdout + '\n' + stderr)}`),
      );
    });
  });
}

/** Runs `work` on each item, at most `limit` at a time (the CI machine has two cores). */
export async function inBatches<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** A workspace package as it is published. */
export interface WorkspacePackage {
  /** Its folder under packages/. */
  folder: string;
  dir: string;
  manifest: PackageManifest;
}

/** The parts of a package.json this test reads. */
export interface PackageManifest {
  name: string;
  version: string;
  files?: string[];
  main?: string;
  module?: string;
  types?: string;
  bin?: string | Record<string, string>;
  exports?: unknown;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  [field: string]: unknown;
}

/** Every package under packages/ that is published (not private). */
export function workspacePackages(): WorkspacePackage[] {
  const root = join(REPOSITORY, 'packages');
  return readdirSync(root)
    .filter((folder) => existsSync(join(root, folder, 'package.json')))
    .sort()
    .map((folder) => {
      const dir = join(root, folder);
      const manifest = JSON.parse(
        readFileSync(join(dir, 'package.json'), 'utf8'),
      ) as PackageManifest;
      return { folder, dir, manifest };
    })
    .filter(({ manifest }) => manifest.private !== true);
}

/**
 * Whether the package is still an empty skeleton (`export {};` alone in
 * src/index.ts): a package being written, with nothing to publish yet.
 */
export function isSkeleton(pkg: WorkspacePackage): boolean {
  const source = readFileSync(join(pkg.dir, 'src/index.ts'), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '')
    .trim();
  return source === 'export {};';
}

/** The newest modification time of the files under `dir` that `keep` accepts. */
function newest(dir: string, keep: (name: string) => boolean): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newest(path, keep));
    else if (keep(entry.name)) latest = Math.max(latest, statSync(path).mtimeMs);
  }
  return latest;
}

/**
 * Throws unless the package's dist/ exists and is newer than its sources: a
 * tarball packed from a stale build would test code that is not the
 * repository's. `npm test` and CI build first.
 */
export function assertBuilt(pkg: WorkspacePackage): void {
  const dist = join(pkg.dir, 'dist');
  if (!existsSync(dist)) {
    throw new Error(`${pkg.manifest.name}: ${dist} is missing: run \`pnpm run build\` first`);
  }
  const sources = newest(
    join(pkg.dir, 'src'),
    (name) => name.endsWith('.ts') && !/\.test(-d)?\.ts$|^test-support\.ts$/.test(name),
  );
  const built = newest(dist, () => true);
  if (sources > built) {
    throw new Error(
      `${pkg.manifest.name}: packages/${pkg.folder}/src is newer than its dist/: run \`pnpm run build\` first`,
    );
  }
}

/** `pnpm pack` into `destination`; returns the tarball's path. */
export async function pack(pkg: WorkspacePackage, destination: string): Promise<string> {
  mkdirSync(destination, { recursive: true });
  await run('pnpm', ['pack', '--pack-destination', destination], {
    cwd: pkg.dir,
    timeoutMs: 60_000,
  });
  const tarballs = readdirSync(destination).filter((name) => name.endsWith('.tgz'));
  if (tarballs.length !== 1) {
    throw new Error(`pnpm pack left ${tarballs.length} tarballs in ${destination}`);
  }
  return join(destination, tarballs[0]!);
}

/** The paths inside a tarball, without the leading `package/`. */
export function tarballEntries(tarball: string): string[] {
  return execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.replace(/^package\//, ''));
}

/** One file's text from a tarball. */
export function tarballFile(tarball: string, path: string): string {
  return execFileSync('tar', ['-xzOf', tarball, `package/${path}`], { encoding: 'utf8' });
}

const OFFLINE_HINT =
  'This test installs the packed tarballs and express, fastify, koa, typescript and @types ' +
  'packages from the npm registry (`npm config get registry`) into fresh projects; with those ' +
  "in npm's cache (~/.npm) it also works offline. Is the registry reachable?";

/**
 * A fresh project in `dir` (which must be outside the workspace, so nothing
 * resolves through the repository's node_modules) with `dependencies`
 * installed by npm: tarball paths and registry specs. `--prefer-offline`
 * takes what npm's cache already has without asking the registry again; a
 * registry that does not answer fails within `timeoutMs`.
 */
export async function installProject(
  dir: string,
  manifest: Record<string, unknown>,
  dependencies: readonly string[],
  options: { timeoutMs: number; env?: NodeJS.ProcessEnv; fetchTimeoutMs?: number },
): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  await run(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--no-update-notifier',
      '--loglevel=error',
      // One retry, soon: a registry that is down fails in seconds, not minutes.
      '--fetch-retries=1',
      '--fetch-retry-mintimeout=1000',
      '--fetch-retry-maxtimeout=5000',
      `--fetch-timeout=${options.fetchTimeoutMs ?? 30_000}`,
      ...dependencies,
    ],
    {
      cwd: dir,
      timeoutMs: options.timeoutMs,
      explain: OFFLINE_HINT,
      ...(options.env === undefined ? {} : { env: options.env }),
    },
  );
}
