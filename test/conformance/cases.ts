/**
 * The cross-framework conformance matrix: one table, every adapter.
 *
 * Each row is a configuration (the core's options), the peer that sends the
 * request (a 127.0.0.x source address: 127.0.0.2 is the proxy most rows
 * trust, 127.0.0.3 a stranger), the header lines and path it sends, and what
 * the app must see: the core's view (`req.forwarded`), the framework's own
 * properties (`AppFacing` in harness.ts), the headers left in both
 * `req.headers` and `req.rawHeaders`, and the warnings logged; or a 400
 * naming a malformed header, rendered by the app's error handler.
 *
 * How a framework joins: write `test/conformance/<framework>.test.ts` with a
 * `Harness` (harness.ts) whose `createServer(options)` builds an app that
 * installs the adapter first, answers every GET with an `Observation` read
 * through the framework's API, and renders errors through the framework's
 * own error path as an `ErrorReport`; then call `describeConformance(harness)`.
 * The runner plays every row over real sockets on a server listening on
 * 127.0.0.1 and on `::` (IPv4 peers then arrive as `::ffff:127.0.0.x`).
 * Framework-specific behaviour (Express's mounted Routers, its `trust proxy`
 * setting) goes in that same file, after the matrix.
 *
 * Rows are named for the behaviour; waitress's rules are those of its
 * `proxy_headers.py` and `task.py` (3.0.2), as the core implements them.
 */
import type { ProxyView, WaitressProxyOptions } from '@waitress-proxy/core';
import { DEFAULT_HOST } from './client.js';
import type { AppFacing } from './harness.js';

/** The proxy most rows trust. */
export const PROXY = '127.0.0.2';
/** A peer no row trusts, unless a row says so. */
export const STRANGER = '127.0.0.3';
/** The Host header of a request that did not set one. */
export const DIRECT_HOST = DEFAULT_HOST;

/** Stands for the port the test server listens on (SERVER_PORT of a direct request). */
export const LOCAL_PORT: unique symbol = Symbol('the server port');
/** Stands for the peer's own port (REMOTE_PORT of a direct request). */
export const PEER_PORT: unique symbol = Symbol('the peer port');

/** The view a row expects; the ports that depend on the run are sentinels. */
export type ExpectedView = Omit<ProxyView, 'port' | 'clientPort'> & {
  readonly port: number | typeof LOCAL_PORT;
  readonly clientPort: number | undefined | typeof PEER_PORT;
};

export interface ConformanceCase {
  /** The behaviour, in words. */
  readonly name: string;
  readonly options: WaitressProxyOptions;
  /** The 127.0.0.x address the request comes from. */
  readonly peer: string;
  /** Header lines as sent (`'X-Forwarded-For: 203.0.113.7'`); `Host: app.example` unless given. */
  readonly headers?: readonly string[];
  /** Default `/`. */
  readonly path?: string;
  readonly expected:
    | {
        readonly view: ExpectedView;
        /** Framework properties to check beyond those that mirror the view. */
        readonly app?: Partial<AppFacing>;
        /** Headers after the adapter (lower-case names); undefined: absent. */
        readonly headers?: Readonly<Record<string, string | undefined>>;
        /** Substrings of exactly the warnings logged, in order. */
        readonly warnings?: readonly string[];
      }
    | {
        /** The header the 400 names, as waitress spells it. */
        readonly malformed: string;
      }
    | {
        /** Another refusal through the framework's error path (allowedHosts). */
        readonly refused: { readonly status: number; readonly message: string };
      };
}

/**
 * What a direct connection from `peer` looks like, with `changes` on top:
 * every row spells out what differs from it.
 */
function viewOf(peer: string, changes: Partial<ExpectedView> = {}): ExpectedView {
  return {
    clientAddress: peer,
    clientPort: PEER_PORT,
    scheme: 'http',
    host: DIRECT_HOST,
    hostname: DIRECT_HOST,
    port: LOCAL_PORT,
    prefix: '',
    path: '/',
    ips: [],
    peerAddress: peer,
    peerTrusted: false,
    ...changes,
  };
}

/** A view from the trusted `PROXY` with `changes`. */
function viaProxy(changes: Partial<ExpectedView>): ExpectedView {
  return viewOf(PROXY, { peerTrusted: true, ...changes });
}

/** A client `address` without port, as a trusted header gave it. */
function client(address: string, ips: readonly string[] = [address]): Partial<ExpectedView> {
  return { clientAddress: address, clientPort: undefined, ips };
}

/** nginx, Apache and the like: the four X-Forwarded-* headers from one proxy. */
const X_FORWARDED: WaitressProxyOptions = {
  trustedProxy: PROXY,
  trustedProxyHeaders: [
    'x-forwarded-for',
    'x-forwarded-host',
    'x-forwarded-proto',
    'x-forwarded-port',
  ],
};
const FORWARDED: WaitressProxyOptions = { trustedProxy: PROXY, trustedProxyHeaders: 'forwarded' };

/** Every proxy header a forging client might send. */
const FORGED = [
  'X-Forwarded-For: 203.0.113.66',
  'X-Forwarded-Host: evil.example',
  'X-Forwarded-Proto: https',
  'X-Forwarded-Port: 8443',
  'X-Forwarded-By: 203.0.113.67',
  'Forwarded: for=203.0.113.66;host=evil.example;proto=https',
  'X-Real-IP: 203.0.113.66',
  'CF-Connecting-IP: 203.0.113.66',
  'True-Client-IP: 203.0.113.66',
  'Fastly-Client-IP: 203.0.113.66',
  'X-Forwarded-Prefix: //evil.example',
];
const NO_PROXY_HEADERS = {
  'x-forwarded-for': undefined,
  'x-forwarded-host': undefined,
  'x-forwarded-proto': undefined,
  'x-forwarded-port': undefined,
  'x-forwarded-by': undefined,
  forwarded: undefined,
  'x-real-ip': undefined,
  'cf-connecting-ip': undefined,
  'true-client-ip': undefined,
  'fastly-client-ip': undefined,
  'x-forwarded-prefix': undefined,
};

const untrusted: ConformanceCase[] = [
  {
    name: 'an untrusted peer sees the direct connection and every proxy header is removed',
    options: X_FORWARDED,
    peer: STRANGER,
    headers: FORGED,
    expected: {
      view: viewOf(STRANGER),
      app: { ip: STRANGER, ips: [], protocol: 'http', url: 'http://app.example/', path: '/' },
      headers: { host: DIRECT_HOST, ...NO_PROXY_HEADERS },
    },
  },
  {
    name: 'without trustedProxy no peer is trusted, not even the usual proxy',
    options: {},
    peer: PROXY,
    headers: FORGED,
    expected: { view: viewOf(PROXY), headers: NO_PROXY_HEADERS },
  },
  {
    name: 'clearUntrustedProxyHeaders false leaves an untrusted peer its headers, unused',
    options: { ...X_FORWARDED, clearUntrustedProxyHeaders: false },
    peer: STRANGER,
    headers: ['X-Forwarded-For: 203.0.113.66', 'X-Forwarded-Proto: https'],
    expected: {
      view: viewOf(STRANGER),
      headers: { 'x-forwarded-for': '203.0.113.66', 'x-forwarded-proto': 'https' },
    },
  },
  {
    name: 'logUntrustedProxyHeaders names the removed headers',
    options: { ...X_FORWARDED, logUntrustedProxyHeaders: true },
    peer: STRANGER,
    headers: ['X-Forwarded-For: 203.0.113.66', 'Forwarded: for=203.0.113.66'],
    expected: {
      view: viewOf(STRANGER),
      warnings: ['Removed untrusted headers (X-Forwarded-For, Forwarded)'],
    },
  },
  {
    name: 'a malformed header from an untrusted peer is ignored, not a 400',
    options: X_FORWARDED,
    peer: STRANGER,
    headers: ['X-Forwarded-Proto: ftp', 'X-Forwarded-Port: abc'],
    expected: { view: viewOf(STRANGER), headers: NO_PROXY_HEADERS },
  },
  {
    name: 'proxy headers not in trustedProxyHeaders are removed even from a trusted proxy',
    options: { trustedProxy: PROXY, trustedProxyHeaders: ['x-forwarded-for'] },
    peer: PROXY,
    headers: FORGED,
    expected: {
      view: viaProxy(client('203.0.113.66')),
      headers: { ...NO_PROXY_HEADERS, 'x-forwarded-for': '203.0.113.66', host: DIRECT_HOST },
    },
  },
];

const forwardedFor: ConformanceCase[] = [
  {
    name: 'the last X-Forwarded-For entry is the client when one proxy is trusted',
    options: X_FORWARDED,
    peer: PROXY,
    headers: ['X-Forwarded-For: 198.51.100.66, 203.0.113.7'],
    expected: {
      view: viaProxy(client('203.0.113.7')),
      app: { ip: '203.0.113.7', ips: ['203.0.113.7'] },
      headers: { 'x-forwarded-for': '203.0.113.7' },
    },
  },
  {
    name: 'the oldest X-Forwarded-For entry inside the window of trustedProxyCount is the client',
    options: { ...X_FORWARDED, trustedProxyCount: 2 },
    peer: PROXY,
    headers: ['X-Forwarded-For: 198.51.100.66, 203.0.113.7, 10.0.0.2'],
    expected: {
      view: viaProxy(client('203.0.113.7', ['203.0.113.7', '10.0.0.2'])),
      app: { ip: '203.0.113.7', ips: ['203.0.113.7', '10.0.0.2'] },
      headers: { 'x-forwarded-for': '203.0.113.7, 10.0.0.2' },
    },
  },
  {
    name: 'a chain shorter than the window: its oldest entry is the client',
    options: { ...X_FORWARDED, trustedProxyCount: 3 },
    peer: PROXY,
    headers: ['X-Forwarded-For: 203.0.113.7, 10.0.0.2'],
    expected: {
      view: viaProxy(client('203.0.113.7', ['203.0.113.7', '10.0.0.2'])),
      headers: { 'x-forwarded-for': '203.0.113.7, 10.0.0.2' },
    },
  },
  {
    name: 'repeated X-Forwarded-For lines are one list, left as one line cut to the window',
    options: X_FORWARDED,
    peer: PROXY,
    headers: ['X-Forwarded-For: 198.51.100.66', 'x-forwarded-for: 203.0.113.7'],
    expected: {
      view: viaProxy(client('203.0.113.7')),
      headers: { 'x-forwarded-for': '203.0.113.7' },
    },
  },
  {
    name: 'an X-Forwarded-For entry with a port gives the client port',
    options: X_FORWARDED,
    peer: PROXY,
    headers: ['X-Forwarded-For: 203.0.113.7:4711'],
    expected: {
      view: viaProxy({ ...client('203.0.113.7'), clientPort: 4711 }),
      app: { ip: '203.0.113.7' },
    },
  },
  {
    name: 'a bracketed IPv6 X-Forwarded-For entry with a port gives the address without brackets',
    options: X_FORWARDED,
    peer: PROXY,
    headers: ['X-Forwarded-For: [2001:db8::7]:4711'],
    expected: { view: viaProxy({ ...client('2001:db8::7'), clientPort: 4711 }) },
  },
  {
    name: 'a quoted X-Forwarded-For entry is unquoted',
    options: X_FORWARDED,
    peer: PROXY,
    headers: ['X-Forwarded-For: 198.51.100.66, "203.0.113.7"'],
    expected: {
      view: viaProxy(client('203.0.113.7')),
      headers: { 'x-forwarded-for': '"203.0.113.7"' },
    },
  },
  {
    name: 'a broken entry outside the window is never read, so a client cannot cause a 400',
    options: X_FORWARDED,
    peer: PROXY,
    headers: ['X-Forwarded-For: "broken, 203.0.113.7'],
    expected: {
      view: viaProxy(client('203.0.113.7')),
      headers: { 'x-forwarded-for': '203.0.113.7' },
    },
  },
  {
    name: 'bad quoting inside the window is a 400 naming X-Forwarded-For',
    options: X_FORWARDED,
    peer: PROXY,
    headers: ['X-Forwarded-For: "203.0.113.7'],
    expected: { malformed: 'X-Forwarded-For' },
  },
  {
    name: 'requireTrustedHops: the first hop that is not a trusted proxy is the client',
    options: {
      trustedProxy: [PROXY, '10.0.0.0/8'],
      trustedProxyCount: Infinity,
      requireTrustedHops: true,
      trustedProxyHeaders: ['x-forwarded-for'],
    },
    peer: PROXY,
    headers: ['X-Forwarded-For: 192.0.2.66, 203.0.113.7, 10.0.0.3, 10.0.0.2'],
    expected: {
      view: viaProxy(client('203.0.113.7', ['203.0.113.7', '10.0.0.3', '10.0.0.2'])),
      headers: { 'x-forwarded-for': '203.0.113.7, 10.0.0.3, 10.0.0.2' },
    },
  },
];

const hostAndPort: ConformanceCase[] = [
  {
    name: 'X-Forwarded-Host sets the host, the hostname and the Host header',
    options: X_FORWARDED,
    peer: PROXY,
    headers: ['Host: internal:8080', 'X-Forwarded-Host: shop.example'],
    expected: {
      view: viaProxy({ host: 'shop.example', hostname: 'shop.example' }),
      app: { host: 'shop.example', url: 'http://shop.example/' },
      headers: { host: 'shop.example', 'x-forwarded-host': 'shop.example' },
    },
  },
  {
    name: 'the oldest X-Forwarded-Host inside the window wins',
    options: { ...X_FORWARDED, trustedProxyCount: 2 },
    peer: PROXY,
    headers: ['X-Forwarded-Host: evil.example, shop.example, internal.example'],
    expected: {
      view: viaProxy({ host: 'shop.example', hostname: 'shop.example' }),
      headers: { host: 'shop.example', 'x-forwarded-host': 'shop.example, internal.example' },
    },
  },
  {
    name: 'a port inside the forwarded host beats X-Forwarded-Port',
    options: X_FORWARDED,
    peer: PROXY,
    headers: [
      'X-Forwarded-Host: shop.example:8443',
      'X-Forwarded-Port: 9443',
      'X-Forwarded-Proto: https',
    ],
    expected: {
      view: viaProxy({
        scheme: 'https',
        host: 'shop.example:8443',
        hostname: 'shop.example',
        port: 8443,
      }),
      app: { url: 'https://shop.example:8443/' },
    },
  },
  {
    name: 'X-Forwarded-Port beats the default port of the forwarded proto',
    options: X_FORWARDED,
    peer: PROXY,
    headers: [
      'X-Forwarded-Host: shop.example',
      'X-Forwarded-Port: 9443',
      'X-Forwarded-Proto: https',
    ],
    expected: {
      view: viaProxy({
        scheme: 'https',
        host: 'shop.example:9443',
        hostname: 'shop.example',
        port: 9443,
      }),
      headers: { host: 'shop.example:9443' },
    },
  },
  {
    name: 'the forwarded proto implies port 443 when nothing else gives one',
    options: X_FORWARDED,
    peer: PROXY,
    headers: ['X-Forwarded-Host: shop.example', 'X-Forwarded-Proto: https'],
    expected: {
      view: viaProxy({
        scheme: 'https',
        host: 'shop.example',
        hostname: 'shop.example',
        port: 443,
      }),
      app: { protocol: 'https', secure: true, url: 'https://shop.example/' },
    },
  },
  {
    name: 'the forwarded proto http implies port 80',
    options: X_FORWARDED,
    peer: PROXY,
    headers: ['X-Forwarded-Host: shop.example', 'X-Forwarded-Proto: http'],
    expected: {
      view: viaProxy({ host: 'shop.example', hostname: 'shop.example', port: 80 }),
    },
  },
  {
    name: "X-Forwarded-Port equal to the scheme's default is left out of the host",
    options: X_FORWARDED,
    peer: PROXY,
    headers: [
      'X-Forwarded-Host: shop.example',
      'X-Forwarded-Port: 443',
      'X-Forwarded-Proto: https',
    ],
    expected: {
      view: viaProxy({
        scheme: 'https',
        host: 'shop.example',
        hostname: 'shop.example',
        port: 443,
      }),
      headers: { host: 'shop.example' },
    },
  },
  {
    name: 'port 443 on an http request is not a default and stays in the host',
    options: X_FORWARDED,
    peer: PROXY,
    headers: ['X-Forwarded-Host: shop.example', 'X-Forwarded-Port: 443'],
    expected: {
      view: viaProxy({ host: 'shop.example:443', hostname: 'shop.example', port: 443 }),
    },
  },
  {
    name: 'an explicit port in the forwarded host is kept as written, even the default',
    options: X_FORWARDED,
    peer: PROXY,
    headers: ['X-Forwarded-Host: shop.example:443', 'X-Forwarded-Proto: https'],
    expected: {
      view: viaProxy({
        scheme: 'https',
        host: 'shop.example:443',
        hostname: 'shop.example',
        port: 443,
      }),
    },
  },
  {
    name: 'X-Forwarded-Port alone sets the port and leaves the Host header',
    options: X_FORWARDED,
    peer: PROXY,
    headers: ['X-Forwarded-Port: 8080'],
    expected: { view: viaProxy({ port: 8080 }), headers: { host: DIRECT_HOST } },
  },
  {
    name: 'a bracketed IPv6 forwarded host keeps its brackets in the hostname',
    options: X_FORWARDED,
    peer: PROXY,
    headers: ['X-Forwarded-Host: [2001:db8::1]:8443'],
    expected: {
      view: viaProxy({ host: '[2001:db8::1]:8443', hostname: '[2001:db8::1]', port: 8443 }),
    },
  },
  {
    name: 'a quoted X-Forwarded-Host is unquoted',
    options: X_FORWARDED,
    peer: PROXY,
    headers: ['X-Forwarded-Host: "shop.example"'],
    expected: { view: viaProxy({ host: 'shop.example', hostname: 'shop.example' }) },
  },
];

const proto: ConformanceCase[] = [
  {
    name: 'X-Forwarded-Proto https makes the request secure on port 443',
    options: X_FORWARDED,
    peer: PROXY,
    headers: ['X-Forwarded-Proto: https'],
    expected: {
      view: viaProxy({ scheme: 'https', port: 443 }),
      app: { protocol: 'https', secure: true, url: 'https://app.example/' },
      headers: { 'x-forwarded-proto': 'https' },
    },
  },
  {
    name: 'X-Forwarded-Proto is case-insensitive',
    options: X_FORWARDED,
    peer: PROXY,
    headers: ['X-Forwarded-Proto: HTTPS'],
    expected: { view: viaProxy({ scheme: 'https', port: 443 }) },
  },
  {
    name: 'trustedProxy without trustedProxyHeaders trusts X-Forwarded-Proto only, and says so',
    options: { trustedProxy: PROXY },
    peer: PROXY,
    headers: ['X-Forwarded-Proto: https', 'X-Forwarded-For: 203.0.113.66'],
    expected: {
      view: viaProxy({ scheme: 'https', port: 443 }),
      headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': undefined },
      warnings: ['only X-Forwarded-Proto is trusted'],
    },
  },
  {
    name: 'urlScheme sets the scheme of a direct request',
    options: { urlScheme: 'https' },
    peer: STRANGER,
    expected: {
      view: viewOf(STRANGER, { scheme: 'https' }),
      app: { protocol: 'https', secure: true },
    },
  },
  {
    name: 'a trusted X-Forwarded-Proto beats urlScheme',
    options: { ...X_FORWARDED, urlScheme: 'https' },
    peer: PROXY,
    headers: ['X-Forwarded-Proto: http'],
    expected: { view: viaProxy({ scheme: 'http', port: 80 }) },
  },
];

const malformed: ConformanceCase[] = [
  ...[
    ['an X-Forwarded-Proto other than http or https', 'X-Forwarded-Proto', 'ftp'],
    ['an X-Forwarded-Proto that is a URL', 'X-Forwarded-Proto', 'http://evil.example?url=http'],
    ['several X-Forwarded-Proto values', 'X-Forwarded-Proto', 'https, http'],
    ['badly quoted X-Forwarded-Proto', 'X-Forwarded-Proto', '"https'],
    ['an X-Forwarded-Port that is not a number', 'X-Forwarded-Port', 'abc'],
    ['several X-Forwarded-Port values', 'X-Forwarded-Port', '443, 80'],
    ['an X-Forwarded-Port out of range', 'X-Forwarded-Port', '70000'],
    ['badly quoted X-Forwarded-Host', 'X-Forwarded-Host', '"shop.example'],
    ['an X-Forwarded-Host that is not a host', 'X-Forwarded-Host', 'evil.example/path'],
    ['an X-Forwarded-For entry that is not an address', 'X-Forwarded-For', 'evil.example'],
  ].map(([what, header, value]): ConformanceCase => ({
    name: `${what} from a trusted proxy is a 400 naming ${header}`,
    options: X_FORWARDED,
    peer: PROXY,
    headers: [`${header!}: ${value!}`],
    expected: { malformed: header! },
  })),
  {
    name: 'repeated X-Forwarded-Proto lines are several values: a 400',
    options: X_FORWARDED,
    peer: PROXY,
    headers: ['X-Forwarded-Proto: https', 'X-Forwarded-Proto: http'],
    expected: { malformed: 'X-Forwarded-Proto' },
  },
  ...[
    ['a Forwarded pair without "="', 'for'],
    ['whitespace around "=" in Forwarded', 'for = 203.0.113.7'],
    ['bad quoting in Forwarded', 'for="203.0.113.7'],
    ['a Forwarded proto other than http or https', 'for=203.0.113.7;proto=ftp'],
    ['a Forwarded parameter twice in one element', 'for=203.0.113.7;for=203.0.113.8'],
  ].map(([what, value]): ConformanceCase => ({
    name: `${what} from a trusted proxy is a 400 naming Forwarded`,
    options: FORWARDED,
    peer: PROXY,
    headers: [`Forwarded: ${value!}`],
    expected: { malformed: 'Forwarded' },
  })),
];

const forwarded: ConformanceCase[] = [
  {
    name: 'Forwarded gives the client address and port, the host and the proto',
    options: FORWARDED,
    peer: PROXY,
    headers: ['Forwarded: for="203.0.113.7:4711";host=shop.example;proto=https'],
    expected: {
      view: viaProxy({
        ...client('203.0.113.7'),
        clientPort: 4711,
        scheme: 'https',
        host: 'shop.example',
        hostname: 'shop.example',
        port: 443,
      }),
      app: { ip: '203.0.113.7', protocol: 'https', url: 'https://shop.example/' },
      headers: {
        host: 'shop.example',
        forwarded: 'for="203.0.113.7:4711";host=shop.example;proto=https',
      },
    },
  },
  {
    name: 'the oldest Forwarded element inside the window wins for for, host and proto',
    options: { ...FORWARDED, trustedProxyCount: 2 },
    peer: PROXY,
    headers: [
      'Forwarded: for=192.0.2.66;host=evil.example;proto=http, ' +
        'for=203.0.113.7;host=shop.example;proto=https, ' +
        'for=10.0.0.2;host=internal.example;proto=http',
    ],
    expected: {
      view: viaProxy({
        ...client('203.0.113.7', ['203.0.113.7', '10.0.0.2']),
        scheme: 'https',
        host: 'shop.example',
        hostname: 'shop.example',
        port: 443,
      }),
      headers: {
        forwarded:
          'for=203.0.113.7;host=shop.example;proto=https, for=10.0.0.2;host=internal.example;proto=http',
      },
    },
  },
  {
    name: 'a newer Forwarded element in the window supplies what the oldest leaves out',
    options: { ...FORWARDED, trustedProxyCount: 2 },
    peer: PROXY,
    headers: ['Forwarded: for=203.0.113.7, for=10.0.0.2;host=shop.example;proto=https'],
    expected: {
      view: viaProxy({
        ...client('203.0.113.7', ['203.0.113.7', '10.0.0.2']),
        scheme: 'https',
        host: 'shop.example',
        hostname: 'shop.example',
        port: 443,
      }),
    },
  },
  {
    name: 'a quoted bracketed IPv6 Forwarded for is unquoted and unbracketed',
    options: FORWARDED,
    peer: PROXY,
    headers: ['Forwarded: for="[2001:db8:cafe::17]:4711"'],
    expected: { view: viaProxy({ ...client('2001:db8:cafe::17'), clientPort: 4711 }) },
  },
  {
    name: 'Forwarded for=unknown and obfuscated identifiers are client addresses as given',
    options: { ...FORWARDED, trustedProxyCount: 2 },
    peer: PROXY,
    headers: ['Forwarded: for=unknown, for=_hidden'],
    expected: { view: viaProxy(client('unknown', ['unknown', '_hidden'])) },
  },
  {
    name: 'with Forwarded trusted every X-Forwarded-* header is removed and unused',
    options: FORWARDED,
    peer: PROXY,
    headers: [
      'Forwarded: for=203.0.113.7',
      'X-Forwarded-For: 198.51.100.66',
      'X-Forwarded-Proto: https',
    ],
    expected: {
      view: viaProxy(client('203.0.113.7')),
      headers: {
        forwarded: 'for=203.0.113.7',
        'x-forwarded-for': undefined,
        'x-forwarded-proto': undefined,
      },
    },
  },
  {
    name: 'an unknown Forwarded parameter is warned about and ignored',
    options: FORWARDED,
    peer: PROXY,
    headers: ['Forwarded: for=203.0.113.7;secret=1'],
    expected: {
      view: viaProxy(client('203.0.113.7')),
      warnings: ['Unknown Forwarded token: secret'],
    },
  },
];

const trust: ConformanceCase[] = [
  {
    name: "trustedProxy '127.0.0.1' matches the peer whether Node reports 127.0.0.1 or ::ffff:127.0.0.1",
    options: { trustedProxy: '127.0.0.1', trustedProxyHeaders: ['x-forwarded-for'] },
    peer: '127.0.0.1',
    headers: ['X-Forwarded-For: 203.0.113.7'],
    expected: {
      view: viewOf('127.0.0.1', { peerTrusted: true, ...client('203.0.113.7') }),
      app: { ip: '203.0.113.7' },
    },
  },
  {
    name: 'a CIDR range trusts a peer inside it',
    options: { trustedProxy: '127.0.0.0/30', trustedProxyHeaders: ['x-forwarded-for'] },
    peer: '127.0.0.2',
    headers: ['X-Forwarded-For: 203.0.113.7'],
    expected: { view: viaProxy(client('203.0.113.7')) },
  },
  {
    name: 'a CIDR range does not trust a peer outside it',
    options: { trustedProxy: '127.0.0.0/30', trustedProxyHeaders: ['x-forwarded-for'] },
    peer: '127.0.0.9',
    headers: ['X-Forwarded-For: 203.0.113.7'],
    expected: { view: viewOf('127.0.0.9'), headers: { 'x-forwarded-for': undefined } },
  },
  {
    name: "the name 'loopback' trusts any 127.0.0.x peer",
    options: { trustedProxy: 'loopback', trustedProxyHeaders: ['x-forwarded-for'] },
    peer: STRANGER,
    headers: ['X-Forwarded-For: 203.0.113.7'],
    expected: { view: viewOf(STRANGER, { peerTrusted: true, ...client('203.0.113.7') }) },
  },
  {
    name: 'a trust function receives the peer address unwrapped from IPv4-mapped form',
    options: {
      trustedProxy: (address) => address === PROXY,
      trustedProxyHeaders: ['x-forwarded-for'],
    },
    peer: PROXY,
    headers: ['X-Forwarded-For: 203.0.113.7'],
    expected: { view: viaProxy(client('203.0.113.7')) },
  },
];

const prefix: ConformanceCase[] = [
  {
    name: 'urlPrefix: /foo/api/x is routed as /api/x under the prefix /foo',
    options: { urlPrefix: '/foo' },
    peer: STRANGER,
    path: '/foo/api/x?q=1',
    expected: {
      view: viewOf(STRANGER, { prefix: '/foo', path: '/api/x?q=1' }),
      app: { path: '/api/x', url: 'http://app.example/foo/api/x?q=1' },
    },
  },
  {
    name: 'urlPrefix: a path equal to the prefix is routed as /',
    options: { urlPrefix: '/foo' },
    peer: STRANGER,
    path: '/foo',
    expected: { view: viewOf(STRANGER, { prefix: '/foo', path: '' }), app: { path: '/' } },
  },
  {
    name: 'urlPrefix: the prefix followed by a query is routed as / with that query',
    options: { urlPrefix: '/foo' },
    peer: STRANGER,
    path: '/foo?q=1',
    expected: {
      view: viewOf(STRANGER, { prefix: '/foo', path: '?q=1' }),
      app: { path: '/', url: 'http://app.example/foo?q=1' },
    },
  },
  {
    name: 'urlPrefix: only a whole path segment is stripped',
    options: { urlPrefix: '/foo' },
    peer: STRANGER,
    path: '/foobar/x',
    expected: {
      view: viewOf(STRANGER, { prefix: '/foo', path: '/foobar/x' }),
      app: { path: '/foobar/x' },
    },
  },
  {
    name: 'urlPrefix is normalized to one leading slash and no trailing slash',
    options: { urlPrefix: 'foo/' },
    peer: STRANGER,
    path: '/foo/x',
    expected: { view: viewOf(STRANGER, { prefix: '/foo', path: '/x' }), app: { path: '/x' } },
  },
  {
    name: 'X-Forwarded-Prefix from a trusted proxy, then urlPrefix: the prefix of both, the path as sent',
    options: { trustedProxy: PROXY, trustedProxyHeaders: 'x-forwarded-prefix', urlPrefix: '/v2' },
    peer: PROXY,
    path: '/v2/x',
    headers: ['X-Forwarded-Prefix: /shop'],
    expected: {
      view: viaProxy({ prefix: '/shop/v2', path: '/x' }),
      app: { path: '/x' },
      headers: { 'x-forwarded-prefix': '/shop' },
    },
  },
  ...['//evil.example', '/a/../b', '/a%2Fb', 'https://evil.example'].map(
    (value): ConformanceCase => ({
      name: `X-Forwarded-Prefix ${JSON.stringify(value)} from a trusted proxy is a 400`,
      options: { trustedProxy: PROXY, trustedProxyHeaders: 'x-forwarded-prefix' },
      peer: PROXY,
      headers: [`X-Forwarded-Prefix: ${value}`],
      expected: { malformed: 'X-Forwarded-Prefix' },
    }),
  ),
];

/** allowedHosts: Host-header poisoning refused through each framework's error path. */
const allowedHosts: ConformanceCase[] = [
  {
    name: 'allowedHosts: a listed host passes',
    options: { allowedHosts: ['app.example'] },
    peer: STRANGER,
    expected: { view: viewOf(STRANGER) },
  },
  {
    name: 'allowedHosts: a trusted forwarded host in the list passes',
    options: { ...X_FORWARDED, allowedHosts: ['.shop.example'] },
    peer: PROXY,
    headers: ['X-Forwarded-Host: www.shop.example'],
    expected: {
      view: viaProxy({ host: 'www.shop.example', hostname: 'www.shop.example' }),
    },
  },
  ...['evil.example', 'app.example.evil.example', 'evilapp.example', 'app.example:8443'].map(
    (host): ConformanceCase => ({
      name: `allowedHosts: Host ${host} is refused with a 400 naming it`,
      options: { allowedHosts: ['app.example:80', 'app.example:8080'] },
      peer: STRANGER,
      headers: [`Host: ${host}`],
      expected: { refused: { status: 400, message: `Host "${host}" is not allowed.` } },
    }),
  ),
  {
    name: 'allowedHosts: a trusted forwarded host outside the list is refused, whatever Host says',
    options: { ...X_FORWARDED, allowedHosts: ['app.example'] },
    peer: PROXY,
    headers: ['X-Forwarded-Host: evil.example'],
    expected: { refused: { status: 400, message: 'Host "evil.example" is not allowed.' } },
  },
];

/** The set-ups of waitress's reverse-proxy document. */
const setups: ConformanceCase[] = [
  {
    name: 'nginx as in the waitress docs: Host $host:$server_port is kept with its port',
    options: X_FORWARDED,
    peer: PROXY,
    headers: [
      'Host: shop.example',
      'X-Forwarded-Proto: https',
      'X-Forwarded-For: 203.0.113.7',
      'X-Forwarded-Host: shop.example:443',
      'X-Forwarded-Port: 443',
    ],
    expected: {
      view: viaProxy({
        ...client('203.0.113.7'),
        scheme: 'https',
        host: 'shop.example:443',
        hostname: 'shop.example',
        port: 443,
      }),
      app: { url: 'https://shop.example:443/' },
    },
  },
  {
    name: 'Apache mod_proxy as in the waitress docs, with trustedProxyHeaders as one string',
    options: {
      trustedProxy: PROXY,
      trustedProxyHeaders: 'x-forwarded-for x-forwarded-host x-forwarded-proto',
    },
    peer: PROXY,
    headers: [
      'Host: backend:8080',
      'X-Forwarded-For: 203.0.113.7',
      'X-Forwarded-Host: shop.example',
      'X-Forwarded-Server: shop.example',
      'X-Forwarded-Proto: https',
    ],
    expected: {
      view: viaProxy({
        ...client('203.0.113.7'),
        scheme: 'https',
        host: 'shop.example',
        hostname: 'shop.example',
        port: 443,
      }),
      app: { url: 'https://shop.example/' },
      // X-Forwarded-Server is not a proxy header waitress knows: left alone.
      headers: { host: 'shop.example', 'x-forwarded-server': 'shop.example' },
    },
  },
];

/**
 * A CDN (or nginx with `X-Real-IP`) that sets one header with the client's
 * address (issue 15): each of the four, with the scheme from
 * X-Forwarded-Proto.
 */
const singleClientIp: ConformanceCase[] = (
  [
    ['x-real-ip', 'X-Real-IP'],
    ['cf-connecting-ip', 'CF-Connecting-IP'],
    ['true-client-ip', 'True-Client-IP'],
    ['fastly-client-ip', 'Fastly-Client-IP'],
  ] as const
).flatMap(([name, display]): ConformanceCase[] => {
  const options: WaitressProxyOptions = {
    trustedProxy: PROXY,
    trustedProxyHeaders: [name, 'x-forwarded-proto'],
  };
  return [
    {
      name: `${display} from a trusted CDN is the client, kept, and a forged X-Forwarded-For is removed`,
      options,
      peer: PROXY,
      headers: [
        'X-Forwarded-For: 203.0.113.66',
        `${display}: 2001:db8::7`,
        'X-Forwarded-Proto: https',
      ],
      expected: {
        view: viaProxy({ ...client('2001:db8::7'), scheme: 'https', port: 443 }),
        app: { ip: '2001:db8::7', ips: ['2001:db8::7'], protocol: 'https' },
        headers: { [name]: '2001:db8::7', 'x-forwarded-for': undefined },
      },
    },
    {
      name: `a forged ${display} from an untrusted peer is ignored and removed`,
      options,
      peer: STRANGER,
      headers: [`${display}: 203.0.113.66`],
      expected: { view: viewOf(STRANGER), app: { ip: STRANGER }, headers: { [name]: undefined } },
    },
    {
      name: `repeated ${display} lines from a trusted CDN are a 400 naming ${display}`,
      options,
      peer: PROXY,
      headers: [`${display}: 203.0.113.66`, `${display}: 198.51.100.7`],
      expected: { malformed: display },
    },
  ];
});

export const CASES: readonly ConformanceCase[] = [
  ...untrusted,
  ...singleClientIp,
  ...forwardedFor,
  ...hostAndPort,
  ...proto,
  ...malformed,
  ...forwarded,
  ...trust,
  ...prefix,
  ...allowedHosts,
  ...setups,
];
