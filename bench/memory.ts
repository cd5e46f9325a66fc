/**
 * No per-request retention: the heap after a full collection, measured
 * before and after a million resolutions in this process, and in each
 * framework's adapter server before and after long autocannon runs. A
 * request that left anything behind (a cache entry, a listener, a closure
 * kept by a prototype) would grow these by its size times the count.
 *
 * Needs `node --expose-gc`. Run alone: `pnpm bench:memory`.
 */
import { pathToFileURL } from 'node:url';
import { compileOptions, requestInput, resolve } from '@waitress-proxy/core';
import { CORE_CASES, requestFor } from './core.js';
import { FRAMEWORKS, check, load, start, stats, stop } from './e2e.js';
import type { Framework } from './forms.js';

export interface CoreMemory {
  /** Heap after a full collection, in bytes: before, after 1M, after 2M resolutions. */
  readonly heapUsed: readonly number[];
  readonly resolutionsPerStep: number;
}

export interface ServerMemory {
  readonly framework: Framework;
  /** Heap after a full collection, after the warm-up and after each run. */
  readonly heapUsed: readonly number[];
  /** Requests served after the warm-up. */
  readonly requests: number;
  readonly seconds: number;
}

export interface MemoryResult {
  readonly core: CoreMemory;
  readonly servers: readonly ServerMemory[];
}

function collectedHeap(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('bench/memory.ts needs node --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

export function measureCore(steps = 2, perStep = 1_000_000): CoreMemory {
  const nginx = CORE_CASES[0];
  if (nginx === undefined) throw new Error('no core case');
  const compiled = compileOptions({ ...nginx.options, logger: { warn: () => undefined } });
  const req = requestFor(nginx);
  let sink = 0;
  // Warm up first, so the JIT's own allocations are not counted as growth.
  for (let i = 0; i < 100_000; i++) sink += resolve(compiled, requestInput(req)).view.port;
  const heapUsed = [collectedHeap()];
  for (let step = 0; step < steps; step++) {
    for (let i = 0; i < perStep; i++) sink += resolve(compiled, requestInput(req)).view.port;
    heapUsed.push(collectedHeap());
  }
  if (sink === 0) throw new Error('no work was done');
  return { heapUsed, resolutionsPerStep: perStep };
}

export async function measureServer(
  framework: Framework,
  runs = 2,
  seconds = 3,
  connections = 32,
): Promise<ServerMemory> {
  const server = await start(framework, 'adapter');
  try {
    await check(server);
    await load(server, 1, connections);
    const heapUsed = [(await stats(server)).heapUsed];
    let requests = 0;
    for (let run = 0; run < runs; run++) {
      requests += (await load(server, seconds, connections)).requests.total;
      heapUsed.push((await stats(server)).heapUsed);
    }
    return { framework, heapUsed, requests, seconds: runs * seconds };
  } finally {
    await stop(server);
  }
}

export async function runMemory(): Promise<MemoryResult> {
  const core = measureCore();
  const servers: ServerMemory[] = [];
  for (const framework of FRAMEWORKS) servers.push(await measureServer(framework));
  return { core, servers };
}

const mb = (bytes: number): string => (bytes / 1e6).toFixed(2);

export function printMemory(result: MemoryResult): void {
  console.log(
    `core: heap after 0, 1M, 2M resolutions (MB): ${result.core.heapUsed.map(mb).join(', ')}`,
  );
  for (const server of result.servers) {
    console.log(
      `${server.framework} adapter: heap after warm-up and each run (MB): ` +
        `${server.heapUsed.map(mb).join(', ')} (${server.requests} requests in ${server.seconds} s)`,
    );
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  printMemory(await runMemory());
}
