/**
 * Throughput of a Fastify app with the plugin against the same app without
 * it, with autocannon, over 127.0.0.1 only: the figures of
 * packages/fastify/README.md, including the plugin with Fastify's
 * trustProxy also set, which `pnpm bench` does not run. Run after
 * `pnpm run build` (it measures the built package, as apps load it):
 *
 *   pnpm bench:fastify [rounds=7] [seconds=5] [connections=10]
 *
 * Each run starts the variant's server in its own child process, warms it up
 * for a second, then loads it. The variants take turns within every round
 * (interleaved), so drift on a shared machine hits them alike. The report
 * gives each variant's median requests/s and its ratio to the bare app, and
 * the server's median CPU time per request (user + system, read from the
 * server process itself), which other load on the machine disturbs less.
 *
 * Every request carries the same three proxy headers from 127.0.0.1, which
 * the plugin trusts (`loopback`); the handler reads request.ip, protocol and
 * host.
 *
 * - bare: Fastify 5 alone (its own getters read the socket and Host);
 * - plugin: `await app.register(waitressProxy, options)`;
 * - plugin+trustProxy: the same with Fastify's trustProxy also set, where
 *   four getters are defined on each request instead of once on the Request
 *   prototype: the cost the prototype getters avoid.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

type Variant = 'bare' | 'plugin' | 'plugin+trustProxy';
const VARIANTS: readonly Variant[] = ['bare', 'plugin', 'plugin+trustProxy'];
const HEADERS = {
  'x-forwarded-for': '203.0.113.7',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'shop.example',
};

/** The child: serves `variant` and answers 'cpu' with its CPU time so far, in µs. */
async function serve(variant: Variant): Promise<void> {
  const { default: Fastify } = await import('fastify');
  const { waitressProxy } = await import('@waitress-proxy/fastify');
  const app = Fastify(variant === 'plugin+trustProxy' ? { trustProxy: true } : {});
  if (variant !== 'bare') {
    await app.register(waitressProxy, {
      trustedProxy: 'loopback',
      trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'],
      logger: { warn() {} },
    });
  }
  app.get('/', (request) => ({ ip: request.ip, protocol: request.protocol, host: request.host }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  process.on('message', () => {
    const { user, system } = process.cpuUsage();
    process.send?.(user + system);
  });
  process.send?.((app.server.address() as AddressInfo).port);
}

function reply(child: ChildProcess): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    child.once('message', (value) => {
      resolve(value as number);
    });
    child.once('error', reject);
  });
}

interface Run {
  readonly requestsPerSecond: number;
  readonly cpuPerRequest: number;
}

async function measure(variant: Variant, seconds: number, connections: number): Promise<Run> {
  // The environment (TSX_TSCONFIG_PATH) is inherited: the child loads dist/ too.
  const child = fork(fileURLToPath(import.meta.url), ['--serve', variant], {
    execArgv: ['--import', 'tsx'],
  });
  try {
    const port = await reply(child);
    const load = (duration: number) =>
      autocannon({ url: `http://127.0.0.1:${port}/`, headers: HEADERS, connections, duration });
    await load(1);
    child.send('cpu');
    const cpuBefore = await reply(child);
    const result = await load(seconds);
    child.send('cpu');
    const cpuAfter = await reply(child);
    if (result.non2xx !== 0 || result.errors !== 0) {
      throw new Error(`${variant}: ${result.non2xx} non-2xx, ${result.errors} errors`);
    }
    return {
      requestsPerSecond: result.requests.average,
      cpuPerRequest: (cpuAfter - cpuBefore) / result.requests.total,
    };
  } finally {
    child.kill();
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const at = (index: number): number => sorted[index] ?? Number.NaN;
  return sorted.length % 2 === 1 ? at(middle) : (at(middle - 1) + at(middle)) / 2;
}

async function main(): Promise<void> {
  const [rounds = 7, seconds = 5, connections = 10] = process.argv.slice(2).map(Number);
  const runs = new Map<Variant, Run[]>(VARIANTS.map((variant) => [variant, []]));
  for (let round = 0; round < rounds; round++) {
    for (const variant of VARIANTS) {
      runs.get(variant)?.push(await measure(variant, seconds, connections));
    }
    console.error(`round ${round + 1}/${rounds} done`);
  }
  const summary = (variant: Variant) => {
    const variantRuns = runs.get(variant) ?? [];
    return {
      variantRuns,
      requestsPerSecond: median(variantRuns.map((run) => run.requestsPerSecond)),
      cpuPerRequest: median(variantRuns.map((run) => run.cpuPerRequest)),
    };
  };
  const bare = summary('bare');
  for (const variant of VARIANTS) {
    const { variantRuns, requestsPerSecond, cpuPerRequest } = summary(variant);
    console.log(
      `${variant.padEnd(18)} median ${Math.round(requestsPerSecond)} req/s ` +
        `(ratio ${(requestsPerSecond / bare.requestsPerSecond).toFixed(3)}), ` +
        `server CPU ${cpuPerRequest.toFixed(1)} µs/request ` +
        `(+${(cpuPerRequest - bare.cpuPerRequest).toFixed(1)}); ` +
        `runs ${variantRuns.map((run) => Math.round(run.requestsPerSecond)).join(' ')}`,
    );
  }
}

if (process.argv[2] === '--serve') await serve(process.argv[3] as Variant);
else await main();
