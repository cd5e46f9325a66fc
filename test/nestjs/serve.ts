/**
 * Runs examples/nestjs/src/serve.ts (the Nest app on both platforms, and the
 * Express platform's install forms) in a process of its own: NestJS 12 is
 * ESM-only, which jest's CommonJS runtime on Node 20 cannot load. The app
 * writes its warnings to standard error, kept in `stderr()`.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { WaitressProxyOptions } from '@waitress-proxy/core';

/** The apps serve.ts starts, by name, as it prints their ports. */
export type NestApp = 'express' | 'expressUseBeforeInit' | 'expressUseAfterInit' | 'fastify';

export interface RunningNest {
  readonly ports: Readonly<Record<NestApp, number>>;
  /** What the app wrote to standard error so far. */
  stderr(): string;
  /** Closes the apps and waits for the process to exit. */
  stop(): Promise<void>;
}

const EXAMPLE = join(__dirname, '..', '..', 'examples', 'nestjs');

/** Starts the apps with the adapter `options` (JSON: no logger, no functions). */
export async function startNest(options: WaitressProxyOptions): Promise<RunningNest> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/serve.ts', JSON.stringify(options)],
    { cwd: EXAMPLE, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<void>((done) =>
    child.on('exit', () => {
      done();
    }),
  );
  const ports = await new Promise<Record<NestApp, number>>((done, fail) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line !== undefined) done(JSON.parse(line) as Record<NestApp, number>);
    });
    child.on('exit', (code) => {
      fail(new Error(`the NestJS app exited with ${String(code)}:\n${stderr}`));
    });
  });
  return {
    ports,
    stderr: () => stderr,
    stop: async () => {
      child.stdin.end();
      await exited;
    },
  };
}
