/**
 * The core's cost per request, with tinybench, beside the equivalent work
 * done by the libraries the frameworks use, in the same run:
 *
 * - ours: `resolve(compiled, requestInput(req))`, the whole view (client
 *   address and port, scheme, host, hostname, port, path, ips) and the header
 *   changes, as every adapter calls it;
 * - proxy-addr (Express, and Fastify through @fastify/proxy-addr): only the
 *   client address from `X-Forwarded-For`, with a trust function compiled
 *   once, as Express compiles `trust proxy`;
 * - forwarded-parse for the `Forwarded` case: the header parsed, and the
 *   client's `for`, `proto` and `host` picked from the trusted window;
 * - for a range source (`@waitress-proxy/ranges`, case g), ours again with
 *   the same 50 ranges given statically: a source must cost what a static
 *   list of the same size costs.
 *
 * Run alone: `pnpm bench:core [ms per task]`.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import forwardedParse from 'forwarded-parse';
import proxyaddr from 'proxy-addr';
import { Bench } from 'tinybench';
import type { Task } from 'tinybench';
import { compileOptions, requestInput, resolve, trustSourcesReady } from '@waitress-proxy/core';
import type { IncomingRequest, WaitressProxyOptions } from '@waitress-proxy/core';
import { fromUrl } from '@waitress-proxy/ranges';

const silent = { warn: () => undefined };

/** The X-Forwarded-* headers nginx's example configuration sends (examples/nginx). */
export const NGINX_HEADERS = {
  host: 'shop.example',
  'x-forwarded-for': '203.0.113.7',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'shop.example:443',
  'x-forwarded-port': '443',
} as const;

const NGINX_TRUSTED = [
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
];

/** Headers every request carries besides the proxy ones. */
const COMMON = {
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0',
  accept: 'text/html,application/xhtml+xml',
  'accept-encoding': 'gzip, deflate, br',
  connection: 'close',
};

/** `count` X-Forwarded-For hops, oldest first: the client, then 10.x.y.z proxies. */
function chain(count: number): string {
  const hops = Array.from(
    { length: count - 1 },
    (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
  );
  return ['203.0.113.7', ...hops].join(', ');
}

/**
 * The longest X-Forwarded-For whose request head fits Node's default limit
 * (`http.maxHeaderSize`, 16 KiB) with a short request line and Host.
 */
export function maxSizeForwardedFor(limit = 16 * 1024): string {
  const fixed = 'GET / HTTP/1.1\r\nHost: shop.example\r\nX-Forwarded-For: \r\n\r\n'.length;
  let count = 2;
  while (fixed + chain(count + 1).length <= limit) count++;
  return chain(count);
}

export interface CoreCase {
  readonly id: string;
  readonly title: string;
  /** What the baseline computes. */
  readonly baseline: string;
  readonly peer: string;
  /**
   * Peers the requests of a batch come from in turn, instead of `peer` (a
   * CDN's edge connects from many addresses).
   */
  readonly peers?: readonly string[];
  readonly headers: Readonly<Record<string, string>>;
  readonly options: WaitressProxyOptions;
  /** The answer both sides must agree on. */
  readonly client: string;
  readonly baselineTask: (req: IncomingRequest) => string;
}

const MAX_FORWARDED_FOR = maxSizeForwardedFor();
const loopback = proxyaddr.compile('loopback');
const byCount = (count: number) => (_address: string, hop: number) => hop < count;

function proxyAddrOf(trust: (address: string, hop: number) => boolean) {
  return (req: IncomingRequest): string => proxyaddr(req as never, trust);
}

/** forwarded-parse, then the oldest `for`, `proto` and `host` of the last `count` elements. */
function forwardedParseOf(count: number) {
  return (req: IncomingRequest): string => {
    const elements = forwardedParse(String(req.headers.forwarded));
    let client = '';
    let proto = '';
    let host = '';
    for (let i = elements.length - 1; i >= Math.max(0, elements.length - count); i--) {
      const element = elements[i];
      if (element?.for !== undefined) client = element.for;
      if (element?.proto !== undefined) proto = element.proto;
      if (element?.host !== undefined) host = element.host;
    }
    return proto !== '' && host !== '' ? client : '';
  };
}

/**
 * 50 ranges, as a CDN publishes them: 45 IPv4 blocks from /12 to /22 and 5
 * IPv6 /32s.
 */
export const FIFTY_RANGES: readonly string[] = [
  ...Array.from({ length: 45 }, (_, i) => `${100 + i}.${(i * 16) % 256}.0.0/${12 + (i % 11)}`),
  ...Array.from({ length: 5 }, (_, i) => `2001:db8:${(i + 1).toString(16)}::/48`),
];

/** 64 peers spread over the 50 ranges, one IPv6 in eight. */
const FIFTY_RANGE_PEERS: readonly string[] = Array.from({ length: 64 }, (_, j) => {
  if (j % 8 === 7) return `2001:db8:${((j % 5) + 1).toString(16)}::${j.toString(16)}`;
  const k = (j * 7) % 45;
  return `${100 + k}.${(k * 16) % 256}.0.${j + 1}`;
});

/**
 * The same 50 ranges as a range source: fromUrl with an injected fetch (no
 * network), loaded once, never refreshed during the run.
 */
function fiftyRangeSource() {
  return fromUrl('https://ranges.invalid/fifty.txt', {
    format: 'lines',
    refreshInterval: Infinity,
    fetch: () => Promise.resolve(new Response(FIFTY_RANGES.join('\n'))),
  });
}

/** `resolve` with `options`, as an adapter calls it. */
function resolverFor(options: WaitressProxyOptions): (req: IncomingRequest) => string {
  const compiled = compileOptions({ ...options, logger: silent });
  return (req) => {
    const result = resolve(compiled, requestInput(req));
    return result.ok ? result.view.clientAddress : '';
  };
}

/**
 * Twenty `allowedHosts` patterns of every kind; only the last matches
 * `shop.example`, so each request tries them all.
 */
const TWENTY_HOST_PATTERNS = [
  ...Array.from({ length: 8 }, (_, i) => `app${i}.example`),
  ...Array.from({ length: 4 }, (_, i) => `.tenant${i}.example`),
  ...Array.from({ length: 4 }, (_, i) => `*.region${i}.example`),
  '192.0.2.10',
  '[2001:db8::10]',
  'api.example:8443',
  'shop.example',
];

export const CORE_CASES: readonly CoreCase[] = [
  {
    id: 'a',
    title: "nginx's four X-Forwarded-* headers, one hop",
    baseline: 'proxy-addr, X-Forwarded-For only',
    peer: '127.0.0.1',
    headers: { ...NGINX_HEADERS, ...COMMON },
    options: { trustedProxy: 'loopback', trustedProxyHeaders: NGINX_TRUSTED },
    client: '203.0.113.7',
    baselineTask: proxyAddrOf(loopback),
  },
  {
    id: 'b',
    title: 'three-hop chain, trustedProxyCount 2',
    baseline: 'proxy-addr, hop count 2 (trust proxy = 2)',
    peer: '127.0.0.1',
    headers: {
      host: 'shop.example',
      'x-forwarded-for': '198.51.100.1, 203.0.113.7, 10.0.0.2',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'shop.example',
      ...COMMON,
    },
    options: {
      trustedProxy: 'loopback',
      trustedProxyCount: 2,
      trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'],
    },
    client: '203.0.113.7',
    // The peer is hop 0, the two trusted proxies' entries hops 1 and 2.
    baselineTask: proxyAddrOf(byCount(2)),
  },
  {
    id: 'c',
    title: 'two-element Forwarded header',
    baseline: 'forwarded-parse, then the oldest for/proto/host',
    peer: '127.0.0.1',
    headers: {
      host: 'shop.example',
      forwarded: 'for=203.0.113.7;proto=https;host=shop.example, for=10.0.0.2;proto=http',
      ...COMMON,
    },
    options: { trustedProxy: 'loopback', trustedProxyCount: 2, trustedProxyHeaders: 'forwarded' },
    client: '203.0.113.7',
    baselineTask: forwardedParseOf(2),
  },
  {
    id: 'd',
    title: 'untrusted peer sending forged headers',
    baseline: 'proxy-addr, X-Forwarded-For only',
    peer: '198.51.100.9',
    headers: { ...NGINX_HEADERS, ...COMMON },
    options: { trustedProxy: 'loopback', trustedProxyHeaders: NGINX_TRUSTED },
    client: '198.51.100.9',
    baselineTask: proxyAddrOf(loopback),
  },
  {
    id: 'e',
    title: 'no proxy headers',
    baseline: 'proxy-addr, X-Forwarded-For only',
    peer: '127.0.0.1',
    headers: { host: 'shop.example', ...COMMON },
    options: { trustedProxy: 'loopback', trustedProxyHeaders: NGINX_TRUSTED },
    client: '127.0.0.1',
    baselineTask: proxyAddrOf(loopback),
  },
  {
    id: 'f',
    title: "X-Forwarded-For at Node's maximum header size",
    baseline: 'proxy-addr, X-Forwarded-For only',
    peer: '127.0.0.1',
    headers: { host: 'shop.example', 'x-forwarded-for': MAX_FORWARDED_FOR },
    options: { trustedProxy: 'loopback', trustedProxyHeaders: NGINX_TRUSTED },
    // The newest entry: the only one inside a window of one.
    client: MAX_FORWARDED_FOR.slice(MAX_FORWARDED_FOR.lastIndexOf(' ') + 1),
    baselineTask: proxyAddrOf(loopback),
  },
  {
    id: 'g',
    title: 'CF-Connecting-IP from 64 peers, a 50-range source',
    baseline: 'ours, the same 50 ranges given statically',
    peer: FIFTY_RANGE_PEERS[0] ?? '',
    peers: FIFTY_RANGE_PEERS,
    headers: { host: 'shop.example', 'cf-connecting-ip': '203.0.113.7', ...COMMON },
    options: { trustedProxy: fiftyRangeSource(), trustedProxyHeaders: 'cf-connecting-ip' },
    client: '203.0.113.7',
    baselineTask: resolverFor({
      trustedProxy: [...FIFTY_RANGES],
      trustedProxyHeaders: 'cf-connecting-ip',
    }),
  },
  {
    id: 'h',
    title: "nginx's four headers, allowedHosts of 20 patterns (the last matches)",
    baseline: 'ours, the same without allowedHosts',
    peer: '127.0.0.1',
    headers: { ...NGINX_HEADERS, ...COMMON },
    options: {
      trustedProxy: 'loopback',
      trustedProxyHeaders: NGINX_TRUSTED,
      allowedHosts: TWENTY_HOST_PATTERNS,
    },
    client: '203.0.113.7',
    baselineTask: resolverFor({ trustedProxy: 'loopback', trustedProxyHeaders: NGINX_TRUSTED }),
  },
];

export function requestFor(testCase: CoreCase, peer = testCase.peer): IncomingRequest {
  return {
    socket: { remoteAddress: peer, remotePort: 50123, localPort: 8080 },
    headers: testCase.headers,
    url: '/products/42?color=red',
  };
}

/** `resolve` as an adapter calls it, checked to give the expected client. */
export function oursFor(testCase: CoreCase): (req: IncomingRequest) => string {
  return resolverFor(testCase.options);
}

export interface CoreResult {
  readonly id: string;
  readonly title: string;
  readonly baseline: string;
  /** Mean ns per call. */
  readonly oursNs: number;
  readonly baselineNs: number;
  /** baselineNs / oursNs: above 1, we are faster. */
  readonly speedup: number;
}

/**
 * Calls per tinybench sample. tinybench reads the clock around every sample,
 * which costs more than some of the calls measured here: timing a batch
 * keeps that cost out of both sides of the comparison.
 */
export const BATCH = 64;

/** Mean ns per call. */
function meanNs(task: Task | undefined): number {
  const result = task?.result;
  if (result?.state !== 'completed') {
    throw new Error(`benchmark ${task?.name ?? '?'} did not complete`);
  }
  return (result.latency.mean * 1e6) / BATCH;
}

/**
 * Measures one case, ours and then the baseline, in this process. Both
 * sides are first checked to find the same client.
 */
export async function runCoreCase(testCase: CoreCase, timeMs: number): Promise<CoreResult> {
  // A range source answers only once loaded, as an adapter waits for it.
  await trustSourcesReady(compileOptions({ ...testCase.options, logger: silent }));
  const req = requestFor(testCase);
  const requests = (testCase.peers ?? [testCase.peer]).map((peer) => requestFor(testCase, peer));
  const ours = oursFor(testCase);
  const baseline = testCase.baselineTask;
  for (const [name, task] of [
    ['ours', ours],
    ['baseline', baseline],
  ] as const) {
    for (const each of requests) {
      const client = task(each);
      if (client !== testCase.client) {
        throw new Error(
          `case ${testCase.id} (${name}): client ${client}, expected ${testCase.client}`,
        );
      }
    }
  }
  let sink = 0;
  const bench = new Bench({ time: timeMs, warmupTime: Math.min(200, timeMs) });
  if (testCase.peers === undefined) {
    bench.add('ours', () => {
      for (let i = 0; i < BATCH; i++) sink += ours(req).length;
    });
    bench.add('baseline', () => {
      for (let i = 0; i < BATCH; i++) sink += baseline(req).length;
    });
  } else {
    // One request from each peer in turn: the matcher's one-entry cache of
    // the last peer does not answer for them.
    const count = requests.length;
    bench.add('ours', () => {
      for (let i = 0; i < BATCH; i++) sink += ours(requests[i % count] ?? req).length;
    });
    bench.add('baseline', () => {
      for (let i = 0; i < BATCH; i++) sink += baseline(requests[i % count] ?? req).length;
    });
  }
  await bench.run();
  if (sink === 0) throw new Error('no work was done');
  const oursNs = meanNs(bench.tasks[0]);
  const baselineNs = meanNs(bench.tasks[1]);
  return {
    id: testCase.id,
    title: testCase.title,
    baseline: testCase.baseline,
    oursNs,
    baselineNs,
    speedup: baselineNs / oursNs,
  };
}

/**
 * Runs every case, each in a process of its own, as an app has one
 * configuration: a case measured after others would run code that V8 has
 * seen with every other case's options and headers.
 */
export function runCore(timeMs = 500): CoreResult[] {
  return CORE_CASES.map((testCase) => {
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(import.meta.url), '--case', testCase.id, String(timeMs)],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    if (child.status !== 0) throw new Error(`core case ${testCase.id} failed (${child.status})`);
    return JSON.parse(child.stdout) as CoreResult;
  });
}

export function printCore(results: readonly CoreResult[]): void {
  console.table(
    results.map((r) => ({
      case: `(${r.id}) ${r.title}`,
      'ours ns': Math.round(r.oursNs),
      'baseline ns': Math.round(r.baselineNs),
      'baseline / ours': Number(r.speedup.toFixed(2)),
    })),
  );
  const a = results.find((r) => r.id === 'a');
  const f = results.find((r) => r.id === 'f');
  if (a !== undefined && f !== undefined) {
    console.log(`max-size / one-hop (ours): ${(f.oursNs / a.oursNs).toFixed(2)}x`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv[2] === '--case') {
    const testCase = CORE_CASES.find((c) => c.id === process.argv[3]);
    if (testCase === undefined) throw new Error(`no case ${process.argv[3] ?? ''}`);
    process.stdout.write(JSON.stringify(await runCoreCase(testCase, Number(process.argv[4]))));
  } else {
    printCore(runCore(Number(process.argv[2] ?? 500)));
  }
}
