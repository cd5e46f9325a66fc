/**
 * Bounded cost: resolving a request whose X-Forwarded-For fills Node's whole
 * header limit (16 KiB, `http.maxHeaderSize`) against one with 10 entries,
 * in the same run, with the configurations where the length could matter:
 * a window of one (the rest is never parsed), a window of every hop
 * (`trustedProxyCount: Infinity`, each entry parsed once) and
 * `requireTrustedHops` walking every trusted hop. Prints ops/s and the
 * ratio of the mean times. Run: `pnpm bench:cost`.
 */
import { Bench } from 'tinybench';
import type { Task } from 'tinybench';
import { compileOptions, resolve } from '@waitress-proxy/core';
import type { WaitressProxyOptions } from '@waitress-proxy/core';

const CLIENT = '198.51.100.7';
const silent = { warn: () => undefined };

/** `count` hops, oldest first: 10.x.y.z addresses (trusted by 'uniquelocal'), then the client. */
function chain(count: number): string {
  const hops = Array.from(
    { length: count - 1 },
    (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
  );
  return [CLIENT, ...hops].join(', ');
}

/** The longest chain whose header line fits Node's limit with a short Host line. */
function maxSizeChain(limit: number): string {
  let count = 10;
  const fits = (n: number) =>
    `X-Forwarded-For: ${chain(n)}\r\n`.length + 'Host: backend.test\r\n\r\n'.length <= limit;
  while (fits(count + 1)) count++;
  return chain(count);
}

const MAX = maxSizeChain(16 * 1024);
const TEN = chain(10);

const configurations: [string, WaitressProxyOptions][] = [
  ['count 1', { trustedProxy: '127.0.0.1', trustedProxyHeaders: ['x-forwarded-for'] }],
  [
    'count Infinity',
    {
      trustedProxy: '127.0.0.1',
      trustedProxyCount: Infinity,
      trustedProxyHeaders: ['x-forwarded-for'],
    },
  ],
  [
    'requireTrustedHops',
    {
      trustedProxy: ['127.0.0.1', 'uniquelocal'],
      trustedProxyCount: Infinity,
      requireTrustedHops: true,
      trustedProxyHeaders: ['x-forwarded-for'],
    },
  ],
];

function task(options: WaitressProxyOptions, xff: string): () => void {
  const compiled = compileOptions({ ...options, logger: silent });
  const input = {
    peerAddress: '127.0.0.1',
    peerPort: 50000,
    localPort: 8080,
    encrypted: false,
    headers: { host: 'backend.test', 'x-forwarded-for': xff },
    url: '/',
  };
  return () => {
    const result = resolve(compiled, input);
    if (!result.ok || result.view.clientAddress === '') throw new Error('unexpected result');
  };
}

/** Mean time per resolve in milliseconds; a task that did not complete is an error. */
function meanMs(task: Task | undefined): number {
  const result = task?.result;
  if (result?.state !== 'completed') {
    throw new Error(`benchmark ${task?.name ?? '?'} did not complete`);
  }
  return result.latency.mean;
}

async function main(): Promise<void> {
  const bench = new Bench({ time: 300, warmupTime: 100 });
  for (const [name, options] of configurations) {
    bench.add(`${name}: 10 entries`, task(options, TEN));
    bench.add(
      `${name}: ${MAX.split(',').length} entries (${MAX.length} bytes)`,
      task(options, MAX),
    );
  }
  await bench.run();

  console.log(`X-Forwarded-For of 10 entries (${TEN.length} bytes) vs ${MAX.length} bytes`);
  console.table(
    bench.tasks.map((t) => ({
      task: t.name,
      'ops/s': Math.round(1000 / meanMs(t)),
      'mean µs': Number((meanMs(t) * 1000).toFixed(2)),
    })),
  );
  for (let i = 0; i + 1 < bench.tasks.length; i += 2) {
    const small = meanMs(bench.tasks[i]);
    const large = meanMs(bench.tasks[i + 1]);
    const name = configurations[i / 2]?.[0] ?? '';
    const perByteSmall = small / TEN.length;
    const perByteLarge = large / MAX.length;
    console.log(
      `${name}: max-size / 10-entry = ${(large / small).toFixed(1)}x ` +
        `(per byte: ${(perByteLarge / perByteSmall).toFixed(2)}x; near or below 1 is linear)`,
    );
  }
}

void main();
