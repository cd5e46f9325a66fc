/**
 * The adversarial corpus: the published ways proxy-header handling has gone
 * wrong, one case each, as plain data with the correct outcome. Runners play
 * it through the core (core.test.ts), through a plain `http.createServer`
 * over real sockets (node-http.test.ts) and through each framework adapter.
 *
 * Every peer is a 127.0.0.x address, so a socket runner can play it with
 * `localAddress`; the addresses inside headers are documentation ranges
 * (RFC 5737, RFC 3849) and are only ever text.
 *
 * Outcomes:
 * - `ignored`: the app sees the direct connection (peer address, `http`, the
 *   Host header) and, with clearing on, no proxy header at all;
 * - `used`: the trusted values, as listed;
 * - `malformed`: a 400 from the core naming the header;
 * - `refused-by-node`: Node's HTTP parser answers before any middleware runs.
 */
import type { WaitressProxyOptions } from '@waitress-proxy/core';

/** How the peer reaches the server. */
export type Transport =
  /** TCP to a server on 127.0.0.1: Node reports `127.0.0.x`. */
  | 'ipv4'
  /** TCP to a server on `::ffff:127.0.0.1`: Node reports `::ffff:127.0.0.x`, as on `::`. */
  | 'ipv4-mapped'
  /** A Unix socket, as behind nginx's `proxy_pass http://unix:...`: no peer address. */
  | 'unix';

/** The fields of the view a case can pin down. */
export interface ExpectedView {
  readonly clientAddress?: string;
  readonly clientPort?: number | undefined;
  readonly scheme?: 'http' | 'https';
  readonly host?: string;
  readonly hostname?: string;
  readonly port?: number;
}

export type Expectation =
  | {
      readonly outcome: 'ignored';
      /** With `clearUntrustedProxyHeaders: false` the forged headers reach the app unchanged. */
      readonly headersKept?: true;
      /**
       * Node 22 answers 431 itself for more lines than `maxHeadersCount`
       * (seen on 22.23); Node 20 (seen on 20.20) drops them silently and the
       * app must still see nothing forged. Either is right.
       */
      readonly overNodeCap?: true;
    }
  | {
      readonly outcome: 'used';
      readonly view: ExpectedView;
      /** Header values the app sees afterwards (lower-case names; undefined = removed). */
      readonly headers?: Readonly<Record<string, string | undefined>>;
    }
  | { readonly outcome: 'malformed'; readonly header: string }
  /** A trusted peer's request over Node's header-line cap: 431, nothing read. */
  | { readonly outcome: 'too-many-headers' }
  /** A host `allowedHosts` does not list: a 400 naming it. */
  | { readonly outcome: 'host-not-allowed'; readonly host: string }
  | { readonly outcome: 'refused-by-node'; readonly status: 400 | 431 };

export interface AdversarialCase {
  /** Named for the attack or the oddity, so a failure says what got through. */
  readonly name: string;
  /** Where this went wrong in public: an issue, advisory, CVE or RFC section. */
  readonly source?: string;
  /** The middleware's options (runners add a logger). */
  readonly options: WaitressProxyOptions;
  /** The direct peer, a 127.0.0.x address (unused on a Unix socket). */
  readonly peer: string;
  readonly transport?: Transport;
  /** Header lines in the order sent; a name may repeat. Holds the Host line. */
  readonly headers: readonly (readonly [string, string])[];
  /** The server's header limit when a case needs more than Node's default. */
  readonly maxHeaderSize?: number;
  readonly expected: Expectation;
}

/** The trusted proxy; a second proxy in front of it; a stranger. */
export const PROXY = '127.0.0.5';
export const SECOND_PROXY = '127.0.0.4';
export const STRANGER = '127.0.0.9';
/** The Host the proxy sends to the app. */
export const BACKEND_HOST = 'backend.test';
/** The client behind the proxy, as the proxy writes it. */
export const CLIENT = '198.51.100.7';
/** What an attacker would like to be. */
export const FORGED = '203.0.113.66';

/** The proxy headers the core knows, lower case. */
export const PROXY_HEADERS = [
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-forwarded-by',
  'forwarded',
  'x-real-ip',
  'cf-connecting-ip',
  'true-client-ip',
  'fastly-client-ip',
  'x-forwarded-prefix',
] as const;

const X_FORWARDED = {
  trustedProxy: PROXY,
  trustedProxyHeaders: [
    'x-forwarded-for',
    'x-forwarded-proto',
    'x-forwarded-host',
    'x-forwarded-port',
  ],
} as const;
const FORWARDED = { trustedProxy: PROXY, trustedProxyHeaders: ['forwarded'] } as const;
const XFF_ONLY = { trustedProxy: PROXY, trustedProxyHeaders: ['x-forwarded-for'] } as const;
const XFH_ONLY = { trustedProxy: PROXY, trustedProxyHeaders: ['x-forwarded-host'] } as const;
const XFP_ONLY = { trustedProxy: PROXY, trustedProxyHeaders: ['x-forwarded-proto'] } as const;
const XFPORT_ONLY = { trustedProxy: PROXY, trustedProxyHeaders: ['x-forwarded-port'] } as const;

/** Header lines: the Host line first, then `lines`. */
function withHost(...lines: (readonly [string, string])[]): (readonly [string, string])[] {
  return [['Host', BACKEND_HOST], ...lines];
}

/** `count` distinct forged IPv4 hops, oldest first. */
export function forgedHops(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `203.0.${(i >> 8) & 255}.${i & 255}`);
}

/** A 10,000-hop chain: 9,999 forged hops and the client the proxy appended. */
const TEN_THOUSAND_HOPS = [...forgedHops(9999), CLIENT].join(', ');

/**
 * Node's default limit on a request's header section (`http.maxHeaderSize`,
 * 16 KiB), which the parser applies to the bytes of the header lines.
 */
export const NODE_MAX_HEADER_SIZE = 16 * 1024;

/**
 * An `X-Forwarded-For` value that, together with a Host line
 * (`Host: backend.test`) and a `Connection: close` line, fills the request's
 * header lines to exactly `total` bytes: forged hops, padded with spaces after
 * the first comma (optional whitespace), then the client the proxy appended.
 */
export function xffOfHeaderSize(total: number): string {
  const otherLines =
    `Host: ${BACKEND_HOST}\r\n`.length + 'Connection: close\r\n'.length + '\r\n'.length;
  const valueLength = total - otherLines - 'X-Forwarded-For: \r\n'.length;
  const tail = `, ${CLIENT}`;
  const hops: string[] = [];
  let length = tail.length;
  for (const hop of forgedHops(100000)) {
    const added = hop.length + (hops.length === 0 ? 0 : 2);
    if (length + added > valueLength) break;
    hops.push(hop);
    length += added;
  }
  const padding = ' '.repeat(valueLength - length);
  const [first = '', ...rest] = hops;
  return rest.length === 0
    ? `${first}${padding}${tail}`
    : `${first},${padding} ${rest.join(', ')}${tail}`;
}

/** A header at Node's maximum size, and one 64 bytes over it. */
const MAX_SIZE_XFF = xffOfHeaderSize(NODE_MAX_HEADER_SIZE);
const OVERSIZE_XFF = xffOfHeaderSize(NODE_MAX_HEADER_SIZE + 64);

const LARGE_SERVER = 1024 * 1024;

/**
 * Node's default cap on header lines (`server.maxHeadersCount` unset: its
 * parser keeps 2,000 entries of the flat name/value list). Lines past it are
 * dropped from `headers` without a word, and past a flush boundary (32 lines)
 * from `rawHeaders` too.
 */
export const NODE_MAX_HEADER_LINES = 1000;

/** `count` short junk lines (`J0: x`...), well inside the 16 KiB byte limit. */
function junkLines(count: number): (readonly [string, string])[] {
  return Array.from({ length: count }, (_, i) => [`J${i}`, 'x'] as const);
}

export const CORPUS: readonly AdversarialCase[] = [
  // --- Spoofing the client address (X-Forwarded-For) ---------------------
  {
    name: 'forged X-Forwarded-For prepended by the client behind an appending proxy: the rightmost entry is the client',
    source:
      'expressjs/express#2099; gingerlime, "Rails IP spoofing vulnerabilities and protection" (2012)',
    options: XFF_ONLY,
    peer: PROXY,
    headers: withHost(['X-Forwarded-For', `${FORGED}, ${CLIENT}`]),
    expected: {
      outcome: 'used',
      view: { clientAddress: CLIENT, clientPort: undefined, scheme: 'http', host: BACKEND_HOST },
      headers: { 'x-forwarded-for': CLIENT },
    },
  },
  {
    name: 'forged prefix behind two proxies with trustedProxyCount 2: the oldest entry inside the window wins',
    source: 'MDN X-Forwarded-For "trusted proxy count"; stjet/Faucet-v2#23',
    options: { ...XFF_ONLY, trustedProxyCount: 2 },
    peer: PROXY,
    headers: withHost(['X-Forwarded-For', `${FORGED}, ${CLIENT}, 192.0.2.10`]),
    expected: {
      outcome: 'used',
      view: { clientAddress: CLIENT },
      headers: { 'x-forwarded-for': `${CLIENT}, 192.0.2.10` },
    },
  },
  {
    name: 'requireTrustedHops: the walk from the right stops at the first hop that is not a trusted proxy',
    source: 'h3js/srvx#229; oauth2-proxy GHSA-7x63-xv5r-3p2x; home-assistant/core#14379',
    options: {
      trustedProxy: 'loopback',
      trustedProxyCount: Infinity,
      requireTrustedHops: true,
      trustedProxyHeaders: ['x-forwarded-for'],
    },
    peer: PROXY,
    headers: withHost(['X-Forwarded-For', `${FORGED}, ${CLIENT}, ${SECOND_PROXY}`]),
    expected: {
      outcome: 'used',
      view: { clientAddress: CLIENT },
      headers: { 'x-forwarded-for': `${CLIENT}, ${SECOND_PROXY}` },
    },
  },
  {
    name: 'requireTrustedHops: a forged trusted-looking hop left of the client is never reached',
    source:
      'Apache mod_remoteip: "processing halts when a given useragent IP address is not trusted"',
    options: {
      trustedProxy: 'loopback',
      trustedProxyCount: Infinity,
      requireTrustedHops: true,
      trustedProxyHeaders: ['x-forwarded-for'],
    },
    peer: PROXY,
    headers: withHost(['X-Forwarded-For', `127.0.0.1, ${CLIENT}`]),
    expected: { outcome: 'used', view: { clientAddress: CLIENT } },
  },
  {
    name: 'forged X-Forwarded-For from an untrusted peer is ignored and removed',
    source: 'cloudfoundry/gorouter#179; stjet/Faucet-v2#23',
    options: X_FORWARDED,
    peer: STRANGER,
    headers: withHost(['X-Forwarded-For', FORGED]),
    expected: { outcome: 'ignored' },
  },
  {
    name: 'forged X-Forwarded-Proto from an untrusted peer does not make the request https',
    options: X_FORWARDED,
    peer: STRANGER,
    headers: withHost(['X-Forwarded-Proto', 'https']),
    expected: { outcome: 'ignored' },
  },
  {
    name: 'forged X-Forwarded-Host from an untrusted peer cannot poison password-reset links',
    source: 'Django CVE-2011-4139 and CVE-2012-4520 (Host header poisoning)',
    options: X_FORWARDED,
    peer: STRANGER,
    headers: withHost(['X-Forwarded-Host', 'evil.example']),
    expected: { outcome: 'ignored' },
  },
  {
    name: 'forged X-Forwarded-Port from an untrusted peer is ignored',
    options: X_FORWARDED,
    peer: STRANGER,
    headers: withHost(['X-Forwarded-Port', '443']),
    expected: { outcome: 'ignored' },
  },
  {
    name: 'forged Forwarded from an untrusted peer is ignored',
    options: FORWARDED,
    peer: STRANGER,
    headers: withHost(['Forwarded', `for=${FORGED};host=evil.example;proto=https`]),
    expected: { outcome: 'ignored' },
  },
  {
    name: 'every proxy header forged at once by an untrusted peer: all removed',
    options: X_FORWARDED,
    peer: STRANGER,
    headers: withHost(
      ['X-Forwarded-For', FORGED],
      ['X-Forwarded-Host', 'evil.example'],
      ['X-Forwarded-Proto', 'https'],
      ['X-Forwarded-Port', '443'],
      ['X-Forwarded-By', FORGED],
      ['Forwarded', `for=${FORGED}`],
    ),
    expected: { outcome: 'ignored' },
  },
  {
    name: 'malformed headers from an untrusted peer are not read, so they cannot cause a 400',
    source: 'Pylons/waitress#257 (malformed proxy headers gave a 500)',
    options: X_FORWARDED,
    peer: STRANGER,
    headers: withHost(['X-Forwarded-For', '"broken'], ['X-Forwarded-Proto', 'javascript']),
    expected: { outcome: 'ignored' },
  },
  {
    name: 'a trusted peer cannot set a header it is not trusted for: X-Forwarded-Host is removed',
    source: 'expressjs/expressjs.com#481 (trust proxy silently trusted X-Forwarded-Host)',
    options: XFF_ONLY,
    peer: PROXY,
    headers: withHost(['X-Forwarded-For', CLIENT], ['X-Forwarded-Host', 'evil.example']),
    expected: {
      outcome: 'used',
      view: { clientAddress: CLIENT, host: BACKEND_HOST, hostname: BACKEND_HOST },
      headers: { 'x-forwarded-host': undefined, host: BACKEND_HOST },
    },
  },
  {
    name: 'clearing off: an untrusted peer gets the direct view, but the forged headers reach the app',
    source: 'Pylons/waitress#451 (apps read X-Forwarded-For themselves)',
    options: { ...X_FORWARDED, clearUntrustedProxyHeaders: false },
    peer: STRANGER,
    headers: withHost(['X-Forwarded-For', FORGED], ['X-Forwarded-Host', 'evil.example']),
    expected: { outcome: 'ignored', headersKept: true },
  },
  {
    name: 'a trusted X-Forwarded-For is cut down to the entries that were used',
    source: 'Pylons/waitress#452 (drop untrusted values from trusted proxy headers)',
    options: XFF_ONLY,
    peer: PROXY,
    headers: withHost(['X-Forwarded-For', `${FORGED}, 203.0.113.67, ${CLIENT}`]),
    expected: {
      outcome: 'used',
      view: { clientAddress: CLIENT },
      headers: { 'x-forwarded-for': CLIENT },
    },
  },
  {
    name: 'an empty X-Forwarded-For from the proxy keeps the peer as the client',
    options: XFF_ONLY,
    peer: PROXY,
    headers: withHost(['X-Forwarded-For', '']),
    expected: { outcome: 'used', view: { clientAddress: PROXY } },
  },
  {
    name: 'a trailing comma does not make an empty hop the client (D8)',
    source: 'RFC 7230 section 7 (#list: empty elements are ignored)',
    options: XFF_ONLY,
    peer: PROXY,
    headers: withHost(['X-Forwarded-For', `${CLIENT},`]),
    expected: { outcome: 'used', view: { clientAddress: CLIENT } },
  },
  {
    name: 'badly quoted text the client put in front of the proxy entry is never read (D7)',
    source: 'Pylons/waitress#257',
    options: XFF_ONLY,
    peer: PROXY,
    headers: withHost(['X-Forwarded-For', `"broken, ${CLIENT}`]),
    expected: { outcome: 'used', view: { clientAddress: CLIENT } },
  },

  // --- Volume ------------------------------------------------------------
  {
    name: '10,000 hops with trustedProxyCount 1: only the proxy entry is read',
    options: XFF_ONLY,
    peer: PROXY,
    headers: withHost(['X-Forwarded-For', TEN_THOUSAND_HOPS]),
    maxHeaderSize: LARGE_SERVER,
    expected: {
      outcome: 'used',
      view: { clientAddress: CLIENT },
      headers: { 'x-forwarded-for': CLIENT },
    },
  },
  {
    name: '10,000 hops with requireTrustedHops and count Infinity: the walk stops at the first stranger',
    options: {
      trustedProxy: 'loopback',
      trustedProxyCount: Infinity,
      requireTrustedHops: true,
      trustedProxyHeaders: ['x-forwarded-for'],
    },
    peer: PROXY,
    headers: withHost(['X-Forwarded-For', TEN_THOUSAND_HOPS]),
    maxHeaderSize: LARGE_SERVER,
    expected: { outcome: 'used', view: { clientAddress: CLIENT } },
  },
  {
    name: '10,000 hops with trustedProxyCount Infinity: every hop is read and the oldest is the client',
    options: { ...XFF_ONLY, trustedProxyCount: Infinity },
    peer: PROXY,
    headers: withHost(['X-Forwarded-For', TEN_THOUSAND_HOPS]),
    maxHeaderSize: LARGE_SERVER,
    expected: { outcome: 'used', view: { clientAddress: '203.0.0.0' } },
  },
  {
    name: '10,000 Forwarded elements with trustedProxyCount 1: only the last is parsed',
    options: FORWARDED,
    peer: PROXY,
    headers: withHost([
      'Forwarded',
      [...forgedHops(9999).map((hop) => `for=${hop};host=evil.example`), `for=${CLIENT}`].join(
        ', ',
      ),
    ]),
    maxHeaderSize: LARGE_SERVER,
    expected: {
      outcome: 'used',
      view: { clientAddress: CLIENT, host: BACKEND_HOST },
      headers: { forwarded: `for=${CLIENT}` },
    },
  },
  {
    name: "an X-Forwarded-For at Node's maximum header size (16 KiB): the proxy entry is the client",
    options: XFF_ONLY,
    peer: PROXY,
    headers: [
      ['Host', BACKEND_HOST],
      ['X-Forwarded-For', MAX_SIZE_XFF],
      ['Connection', 'close'],
    ],
    expected: {
      outcome: 'used',
      view: { clientAddress: CLIENT },
      headers: { 'x-forwarded-for': CLIENT },
    },
  },
  {
    name: "an X-Forwarded-For over Node's maximum header size is refused by Node with 431",
    options: XFF_ONLY,
    peer: PROXY,
    headers: [
      ['Host', BACKEND_HOST],
      ['X-Forwarded-For', OVERSIZE_XFF],
      ['Connection', 'close'],
    ],
    expected: { outcome: 'refused-by-node', status: 431 },
  },

  // --- Repeated header lines (Node joins them with ", ") ------------------
  {
    name: 'duplicated X-Forwarded-For lines are joined by Node: a forged first line stays outside the window',
    source:
      'andre.arko.net, "Repeated headers and Ruby web servers" (2011); Rails ActionDispatch::RemoteIp docs',
    options: XFF_ONLY,
    peer: PROXY,
    headers: withHost(['X-Forwarded-For', FORGED], ['X-Forwarded-For', CLIENT]),
    expected: {
      outcome: 'used',
      view: { clientAddress: CLIENT },
      headers: { 'x-forwarded-for': CLIENT },
    },
  },
  {
    name: 'duplicated X-Forwarded-Proto lines are joined into a list: malformed',
    options: XFP_ONLY,
    peer: PROXY,
    headers: withHost(['X-Forwarded-Proto', 'https'], ['X-Forwarded-Proto', 'http']),
    expected: { outcome: 'malformed', header: 'X-Forwarded-Proto' },
  },
  {
    name: 'duplicated X-Forwarded-Host lines: the last line is inside the window of one',
    source: 'expressjs/express#3494 (comma-delimited X-Forwarded-Host)',
    options: XFH_ONLY,
    peer: PROXY,
    headers: withHost(
      ['X-Forwarded-Host', 'evil.example'],
      ['X-Forwarded-Host', 'www.example.com'],
    ),
    expected: {
      outcome: 'used',
      view: { host: 'www.example.com', hostname: 'www.example.com' },
      headers: { host: 'www.example.com', 'x-forwarded-host': 'www.example.com' },
    },
  },
  {
    name: 'duplicated Forwarded lines: a forged first line stays outside the window',
    options: FORWARDED,
    peer: PROXY,
    headers: withHost(
      ['Forwarded', `for=${FORGED};host=evil.example;proto=https`],
      ['Forwarded', `for=${CLIENT}`],
    ),
    expected: {
      outcome: 'used',
      view: { clientAddress: CLIENT, scheme: 'http', host: BACKEND_HOST },
    },
  },
  {
    name: 'duplicated X-Forwarded-Port lines are joined into a list: malformed',
    options: XFPORT_ONLY,
    peer: PROXY,
    headers: withHost(['X-Forwarded-Port', '443'], ['X-Forwarded-Port', '8443']),
    expected: { outcome: 'malformed', header: 'X-Forwarded-Port' },
  },

  // --- Bytes Node's parser refuses ----------------------------------------
  {
    name: 'a CR inside a header value is refused by Node (request splitting)',
    source: 'CVE-2019-9740 family (CRLF injection); RFC 7230 section 3.2',
    options: X_FORWARDED,
    peer: PROXY,
    headers: withHost(['X-Forwarded-Host', 'www.example.com\rX-Injected: 1']),
    expected: { outcome: 'refused-by-node', status: 400 },
  },
  {
    name: 'a bare LF inside a header value is refused by Node',
    options: X_FORWARDED,
    peer: PROXY,
    headers: withHost(['X-Forwarded-For', `${CLIENT}\nX-Injected: 1`]),
    expected: { outcome: 'refused-by-node', status: 400 },
  },
  {
    name: 'a NUL inside a header value is refused by Node',
    options: X_FORWARDED,
    peer: PROXY,
    headers: withHost(['X-Forwarded-For', `${CLIENT}\u0000`]),
    expected: { outcome: 'refused-by-node', status: 400 },
  },

  // --- Addresses ----------------------------------------------------------
  ...(
    [
      ['octal IPv4 010.0.0.1 is refused (D2)', '010.0.0.1', 'node-ip CVE-2024-29415 (octal forms)'],
      [
        'hex short IPv4 0x7f.1 is refused (D2)',
        '0x7f.1',
        'node-ip GHSA-78xj-cgh5-2h22 (hex forms)',
      ],
      ['short IPv4 127.1 is refused (D2)', '127.1', 'ipaddr.js#133 (classful IPv4 forms)'],
      ['a 32-bit integer address 2130706433 is refused (D2)', '2130706433', 'ruby/ipaddr#12'],
      [
        'hex IPv4 inside IPv4-mapped IPv6 is refused (D2)',
        '::ffff:0x7f.0.0.1',
        'ipaddr.js IPv6.isValid accepts inet_aton forms after "::ffff:"',
      ],
      ['a leading zero in IPv4 inside IPv6 is refused (D2)', '[::ffff:010.0.0.1]:80', undefined],
      ['an IPv4 octet above 255 is refused (D1)', '256.0.0.1', undefined],
      ['an IPv6 zone identifier is refused (D3)', 'fe80::1%eth0', undefined],
      ['markup instead of an address is refused (D1)', '<script>alert(1)</script>', undefined],
      ['a host name instead of an address is refused (D1)', 'evil.example', undefined],
      ['port 0 after an address is refused (D1)', `${CLIENT}:0`, undefined],
      ['port 65536 after an address is refused (D1)', `${CLIENT}:65536`, undefined],
      ['a bracketed address with junk after it is refused (D1)', '[2001:db8::1]x', undefined],
      ['badly quoted text inside the window is malformed', `"${CLIENT}`, 'Pylons/waitress#257'],
    ] as const
  ).map(([name, value, source]): AdversarialCase => ({
    name: `X-Forwarded-For: ${name}`,
    ...(source === undefined ? {} : { source }),
    options: XFF_ONLY,
    peer: PROXY,
    headers: withHost(['X-Forwarded-For', value]),
    expected: { outcome: 'malformed', header: 'X-Forwarded-For' },
  })),
  ...(
    [
      ['IPv4-mapped IPv6 is shown as IPv4 (D9, D10)', '::ffff:198.51.100.7', CLIENT, undefined],
      [
        'IPv4-mapped IPv6 in capitals is shown as IPv4 (D10)',
        '::FFFF:198.51.100.7',
        CLIENT,
        undefined,
      ],
      [
        'IPv4-mapped IPv6 written out in full is shown as IPv4 (D10)',
        '0:0:0:0:0:ffff:198.51.100.7',
        CLIENT,
        undefined,
      ],
      [
        'IPv4-mapped IPv6 in hex groups is shown as IPv4 (D10)',
        '[::ffff:c633:6407]:4711',
        CLIENT,
        4711,
      ],
      ['a bracketed IPv6 address with a port', '[2001:db8::1]:4711', '2001:db8::1', 4711],
      [
        'a bare IPv6 address is a whole address, not address plus port (D9)',
        '2001:db8::1',
        '2001:db8::1',
        undefined,
      ],
      ['an IPv4 address with a port', `${CLIENT}:4711`, CLIENT, 4711],
      ['a quoted address is unquoted', `"${CLIENT}"`, CLIENT, undefined],
      ['"unknown" is kept as the client (RFC 7239 section 6.2)', 'unknown', 'unknown', undefined],
    ] as const
  ).map(([name, value, clientAddress, clientPort]): AdversarialCase => ({
    name: `X-Forwarded-For: ${name}`,
    options: XFF_ONLY,
    peer: PROXY,
    headers: withHost(['X-Forwarded-For', value]),
    expected: { outcome: 'used', view: { clientAddress, clientPort } },
  })),

  // --- Hosts --------------------------------------------------------------
  ...(
    [
      ['a path after the host (D4)', 'evil.example/x', undefined],
      [
        'userinfo before the host (D4)',
        'user@evil.example',
        'Django CVE-2012-4520 (username:password in Host)',
      ],
      ['a space inside the host (D4)', 'a b', undefined],
      ['two ports (D4)', 'host:1:2', undefined],
      ['an unclosed IPv6 bracket (D4)', '[::1', undefined],
      ['port 0 (D4, D5)', 'example.com:0', undefined],
      ['port 65536 (D4, D5)', 'example.com:65536', undefined],
      ['an empty port (D4)', 'example.com:', undefined],
      ['an IPv6 zone identifier (D3, D4)', '[fe80::1%25eth0]', undefined],
      ['hex IPv4 inside a bracketed IPv6 host (D2, D4)', '[::ffff:0x7f.0.0.1]', undefined],
      ['a bare IPv6 address without brackets (D4)', '2001:db8::1', undefined],
      [
        'a backslash (D4)',
        'evil.example\\@good.example',
        'URL parsers disagree on "\\" (WHATWG URL vs RFC 3986)',
      ],
    ] as const
  ).map(([name, value, source]): AdversarialCase => ({
    name: `X-Forwarded-Host: ${name} is malformed`,
    ...(source === undefined ? {} : { source }),
    options: XFH_ONLY,
    peer: PROXY,
    headers: withHost(['X-Forwarded-Host', value]),
    expected: { outcome: 'malformed', header: 'X-Forwarded-Host' },
  })),
  {
    name: 'X-Forwarded-Host: a client-prepended host stays outside the window',
    source: 'expressjs/express#3494 (Express reads the first host)',
    options: XFH_ONLY,
    peer: PROXY,
    headers: withHost(['X-Forwarded-Host', 'evil.example, www.example.com']),
    expected: {
      outcome: 'used',
      view: { host: 'www.example.com', hostname: 'www.example.com' },
      headers: { host: 'www.example.com', 'x-forwarded-host': 'www.example.com' },
    },
  },
  {
    name: 'X-Forwarded-Host: a bracketed IPv6 host with a port',
    options: XFH_ONLY,
    peer: PROXY,
    headers: withHost(['X-Forwarded-Host', '[2001:db8::1]:8443']),
    expected: {
      outcome: 'used',
      view: { host: '[2001:db8::1]:8443', hostname: '[2001:db8::1]', port: 8443 },
    },
  },
  {
    name: 'X-Forwarded-Host: a quoted host is unquoted',
    options: XFH_ONLY,
    peer: PROXY,
    headers: withHost(['X-Forwarded-Host', '"www.example.com"']),
    expected: { outcome: 'used', view: { host: 'www.example.com', hostname: 'www.example.com' } },
  },
  {
    name: 'X-Forwarded-Host: broken quoting in the client part is never read (D7)',
    options: XFH_ONLY,
    peer: PROXY,
    headers: withHost(['X-Forwarded-Host', '"evil, www.example.com']),
    expected: { outcome: 'used', view: { host: 'www.example.com' } },
  },

  // --- Protos -------------------------------------------------------------
  ...(
    [
      ['javascript', 'javascript'],
      ['a URL (waitress test_proxy_headers)', 'http://p02n3e.com?url=http'],
      ['wss', 'wss'],
      ['two values', 'https, http'],
      ['broken quoting', '"https'],
    ] as const
  ).map(([name, value]): AdversarialCase => ({
    name: `X-Forwarded-Proto: ${name} is malformed`,
    options: XFP_ONLY,
    peer: PROXY,
    headers: withHost(['X-Forwarded-Proto', value]),
    expected: { outcome: 'malformed', header: 'X-Forwarded-Proto' },
  })),
  {
    name: 'X-Forwarded-Proto: HTTPS in capitals is https, port 443',
    options: XFP_ONLY,
    peer: PROXY,
    headers: withHost(['X-Forwarded-Proto', 'HTTPS']),
    expected: { outcome: 'used', view: { scheme: 'https', port: 443, host: BACKEND_HOST } },
  },
  {
    name: 'X-Forwarded-Proto: a quoted "https" is unquoted',
    options: XFP_ONLY,
    peer: PROXY,
    headers: withHost(['X-Forwarded-Proto', '"https"']),
    expected: { outcome: 'used', view: { scheme: 'https', port: 443 } },
  },
  {
    name: 'the default trust (X-Forwarded-Proto only, with a warning) ignores a trusted X-Forwarded-For',
    source: 'waitress adjustments.py: trusted_proxy without trusted_proxy_headers',
    options: { trustedProxy: PROXY },
    peer: PROXY,
    headers: withHost(['X-Forwarded-Proto', 'https'], ['X-Forwarded-For', FORGED]),
    expected: {
      outcome: 'used',
      view: { scheme: 'https', clientAddress: PROXY },
      headers: { 'x-forwarded-for': undefined },
    },
  },

  // --- Ports --------------------------------------------------------------
  ...(
    [
      ['a sign', '-1', 'junkurihara/rust-rpxy#619 (strict 1*5DIGIT ports)'],
      ['a plus sign', '+443', 'junkurihara/rust-rpxy#619'],
      ['a leading zero', '08080', undefined],
      ['an exponent', '1e3', undefined],
      ['zero', '0', undefined],
      ['65536', '65536', undefined],
      ['a name', 'https', undefined],
    ] as const
  ).map(([name, value, source]): AdversarialCase => ({
    name: `X-Forwarded-Port: ${name} is malformed (D5)`,
    ...(source === undefined ? {} : { source }),
    options: XFPORT_ONLY,
    peer: PROXY,
    headers: withHost(['X-Forwarded-Port', value]),
    expected: { outcome: 'malformed', header: 'X-Forwarded-Port' },
  })),
  {
    name: 'X-Forwarded-Port with X-Forwarded-Host: the port goes into the host',
    options: X_FORWARDED,
    peer: PROXY,
    headers: withHost(
      ['X-Forwarded-Host', 'www.example.com'],
      ['X-Forwarded-Proto', 'https'],
      ['X-Forwarded-Port', '8443'],
    ),
    expected: {
      outcome: 'used',
      view: {
        scheme: 'https',
        host: 'www.example.com:8443',
        hostname: 'www.example.com',
        port: 8443,
      },
    },
  },
  {
    name: 'a port inside X-Forwarded-Host beats X-Forwarded-Port',
    options: X_FORWARDED,
    peer: PROXY,
    headers: withHost(['X-Forwarded-Host', 'www.example.com:9443'], ['X-Forwarded-Port', '8443']),
    expected: { outcome: 'used', view: { host: 'www.example.com:9443', port: 9443 } },
  },

  // --- Forwarded (RFC 7239) -----------------------------------------------
  ...(
    [
      [
        'a parameter repeated inside one element (D6)',
        `for=${FORGED};for=${CLIENT}`,
        'RFC 7239 section 4',
      ],
      [
        'a repeated host inside one element (D6)',
        'host=evil.example;host=www.example.com',
        'RFC 7239 section 4',
      ],
      ['whitespace around a pair', `for=${CLIENT}; proto=https`, 'waitress proxy_headers.py'],
      ['whitespace around "="', `for = ${CLIENT}`, undefined],
      ['a pair without "="', 'for', undefined],
      ['broken quoting inside the window', `for="${CLIENT}`, undefined],
      ['a path in host= (D4)', 'host="evil.example/x"', undefined],
      ['a bad for= address (D1)', 'for=evil.example', undefined],
      ['proto=javascript', 'proto=javascript', undefined],
      ['an IPv6 for= with an unclosed bracket', 'for="[2001:db8::1"', 'lpinca/forwarded-parse#3'],
      ['a non-numeric port in for= (D1)', 'for="198.51.100.7:abc"', 'junkurihara/rust-rpxy#619'],
    ] as const
  ).map(([name, value, source]): AdversarialCase => ({
    name: `Forwarded: ${name} is malformed`,
    ...(source === undefined ? {} : { source }),
    options: FORWARDED,
    peer: PROXY,
    headers: withHost(['Forwarded', value]),
    expected: { outcome: 'malformed', header: 'Forwarded' },
  })),
  ...(
    [
      [
        'an empty element and a trailing comma are skipped (D8)',
        `for=${CLIENT},`,
        { clientAddress: CLIENT },
      ],
      [
        'an empty pair is skipped',
        `for=${CLIENT};;proto=https`,
        { clientAddress: CLIENT, scheme: 'https' },
      ],
      [
        'an obfuscated identifier is kept (RFC 7239 section 6.3)',
        'for=_hidden',
        { clientAddress: '_hidden' },
      ],
      [
        'an obfuscated port gives no client port',
        'for="_hidden:_port"',
        { clientAddress: '_hidden', clientPort: undefined },
      ],
      ['unknown is kept (RFC 7239 section 6.2)', 'for=unknown', { clientAddress: 'unknown' }],
      ['an unknown parameter is ignored', `for=${CLIENT};secret=x`, { clientAddress: CLIENT }],
      [
        'mixed-case names and values are lower-cased',
        `For=${CLIENT};PROTO=HTTPS;Host=WWW.Example.com`,
        {
          clientAddress: CLIENT,
          scheme: 'https',
          host: 'www.example.com',
          hostname: 'www.example.com',
        },
      ],
      [
        'a quoted bracketed IPv6 with a port',
        'for="[2001:db8::1]:4711"',
        { clientAddress: '2001:db8::1', clientPort: 4711 },
      ],
      [
        'an unquoted bare IPv6 is a whole address (D9)',
        'for=2001:db8::1',
        { clientAddress: '2001:db8::1', clientPort: undefined },
      ],
      [
        'an unquoted IPv4 with a port',
        `for=${CLIENT}:4711`,
        { clientAddress: CLIENT, clientPort: 4711 },
      ],
      [
        'a client-prepended element stays outside the window',
        `for=${FORGED};host=evil.example;proto=https, for=${CLIENT};host=www.example.com`,
        { clientAddress: CLIENT, scheme: 'http', host: 'www.example.com' },
      ],
      [
        'broken quoting in the client part is never read (D7)',
        `for="x, for=${CLIENT}`,
        { clientAddress: CLIENT },
      ],
    ] as const
  ).map(([name, value, view]): AdversarialCase => ({
    name: `Forwarded: ${name}`,
    options: FORWARDED,
    peer: PROXY,
    headers: withHost(['Forwarded', value]),
    expected: { outcome: 'used', view },
  })),
  {
    name: 'Forwarded with trustedProxyCount 2: the oldest element inside the window gives host and proto',
    source: 'waitress proxy_headers.py ("the oldest entry ... is the one we use")',
    options: { ...FORWARDED, trustedProxyCount: 2 },
    peer: PROXY,
    headers: withHost([
      'Forwarded',
      `for=${FORGED};host=evil.example, for=${CLIENT};host="www.example.com:8443";proto=https, for=192.0.2.10;host=internal.example:8080;proto=http`,
    ]),
    expected: {
      outcome: 'used',
      view: { clientAddress: CLIENT, scheme: 'https', host: 'www.example.com:8443', port: 8443 },
      headers: {
        forwarded: `for=${CLIENT};host="www.example.com:8443";proto=https, for=192.0.2.10;host=internal.example:8080;proto=http`,
      },
    },
  },

  // --- Forwarded and X-Forwarded-* together, in each trust mode -------------
  {
    name: 'both sent, Forwarded trusted: Forwarded is used and every X-Forwarded-* removed',
    options: FORWARDED,
    peer: PROXY,
    headers: withHost(
      ['Forwarded', `for=${CLIENT};proto=https;host=www.example.com`],
      ['X-Forwarded-For', FORGED],
      ['X-Forwarded-Host', 'evil.example'],
      ['X-Forwarded-Proto', 'http'],
    ),
    expected: {
      outcome: 'used',
      view: { clientAddress: CLIENT, scheme: 'https', host: 'www.example.com' },
      headers: {
        'x-forwarded-for': undefined,
        'x-forwarded-host': undefined,
        'x-forwarded-proto': undefined,
        host: 'www.example.com',
      },
    },
  },
  {
    name: 'both sent, X-Forwarded-* trusted: X-Forwarded-* is used and Forwarded removed',
    options: X_FORWARDED,
    peer: PROXY,
    headers: withHost(
      ['Forwarded', `for=${FORGED};proto=https;host=evil.example`],
      ['X-Forwarded-For', CLIENT],
      ['X-Forwarded-Host', 'www.example.com'],
      ['X-Forwarded-Proto', 'https'],
    ),
    expected: {
      outcome: 'used',
      view: { clientAddress: CLIENT, scheme: 'https', host: 'www.example.com', port: 443 },
      headers: { forwarded: undefined, 'x-forwarded-for': CLIENT },
    },
  },
  {
    name: 'both sent, only X-Forwarded-Proto trusted: the rest is removed',
    options: XFP_ONLY,
    peer: PROXY,
    headers: withHost(
      ['Forwarded', `for=${FORGED};host=evil.example`],
      ['X-Forwarded-For', FORGED],
      ['X-Forwarded-Proto', 'https'],
    ),
    expected: {
      outcome: 'used',
      view: { clientAddress: PROXY, scheme: 'https', host: BACKEND_HOST },
      headers: { forwarded: undefined, 'x-forwarded-for': undefined, 'x-forwarded-proto': 'https' },
    },
  },
  {
    name: 'both sent by an untrusted peer with Forwarded trusted: both ignored and removed',
    options: FORWARDED,
    peer: STRANGER,
    headers: withHost(['Forwarded', `for=${FORGED}`], ['X-Forwarded-For', FORGED]),
    expected: { outcome: 'ignored' },
  },
  {
    name: 'Forwarded trusted but only X-Forwarded-For sent: it is not read',
    options: FORWARDED,
    peer: PROXY,
    headers: withHost(['X-Forwarded-For', FORGED]),
    expected: {
      outcome: 'used',
      view: { clientAddress: PROXY },
      headers: { 'x-forwarded-for': undefined },
    },
  },

  // --- Peers ----------------------------------------------------------------
  {
    name: 'an IPv4-mapped peer (server on ::) matches an IPv4 trustedProxy (D10)',
    source: 'jshttp/proxy-addr#4 (Node reports ::ffff:127.0.0.1)',
    options: XFF_ONLY,
    peer: PROXY,
    transport: 'ipv4-mapped',
    headers: withHost(['X-Forwarded-For', CLIENT]),
    expected: { outcome: 'used', view: { clientAddress: CLIENT } },
  },
  {
    name: 'an IPv4-mapped stranger is still a stranger, shown as IPv4',
    options: XFF_ONLY,
    peer: STRANGER,
    transport: 'ipv4-mapped',
    headers: withHost(['X-Forwarded-For', FORGED]),
    expected: { outcome: 'ignored' },
  },
  {
    name: 'a Unix-socket peer is trusted with "localhost", as in waitress',
    options: { trustedProxy: 'localhost', trustedProxyHeaders: ['x-forwarded-for'] },
    peer: PROXY,
    transport: 'unix',
    headers: withHost(['X-Forwarded-For', CLIENT]),
    expected: { outcome: 'used', view: { clientAddress: CLIENT } },
  },
  {
    name: 'a Unix-socket peer is trusted with "unix", the clearer spelling',
    options: {
      trustedProxy: 'unix',
      trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-proto'],
    },
    peer: PROXY,
    transport: 'unix',
    headers: withHost(['X-Forwarded-For', CLIENT], ['X-Forwarded-Proto', 'https']),
    expected: { outcome: 'used', view: { clientAddress: CLIENT, scheme: 'https' } },
  },
  {
    name: 'a Unix-socket peer is not trusted by trustedProxy 127.0.0.1, which every nginx guide suggests',
    options: { trustedProxy: '127.0.0.1', trustedProxyHeaders: ['x-forwarded-for'] },
    peer: PROXY,
    transport: 'unix',
    headers: withHost(['X-Forwarded-For', FORGED]),
    expected: { outcome: 'ignored' },
  },
  {
    name: 'a Unix-socket peer is not trusted by a loopback trustedProxy, and does not crash',
    options: { trustedProxy: 'loopback', trustedProxyHeaders: ['x-forwarded-for'] },
    peer: PROXY,
    transport: 'unix',
    headers: withHost(['X-Forwarded-For', FORGED]),
    expected: { outcome: 'ignored' },
  },
  {
    name: 'trustedProxy 127.0.0.5 does not match 127.0.0.50 (no prefix matching)',
    options: XFF_ONLY,
    peer: '127.0.0.50',
    headers: withHost(['X-Forwarded-For', FORGED]),
    expected: { outcome: 'ignored' },
  },
  {
    name: 'a CIDR trustedProxy does not match a peer just outside it',
    options: { trustedProxy: '127.0.0.0/30', trustedProxyHeaders: ['x-forwarded-for'] },
    peer: PROXY,
    headers: withHost(['X-Forwarded-For', FORGED]),
    expected: { outcome: 'ignored' },
  },
  {
    name: 'a trust function that returns a truthy non-boolean does not trust',
    options: {
      trustedProxy: ((address: string) => (address === PROXY ? 'yes' : '')) as unknown as (
        address: string,
      ) => boolean,
      trustedProxyHeaders: ['x-forwarded-for'],
    },
    peer: PROXY,
    headers: withHost(['X-Forwarded-For', FORGED]),
    expected: { outcome: 'ignored' },
  },
  {
    name: 'duplicated Host lines: Node keeps the first, and no proxy header is trusted to change it',
    source: 'RFC 7230 section 5.4 (a second Host line is a 400 there; Node keeps the first)',
    options: X_FORWARDED,
    peer: STRANGER,
    headers: [
      ['Host', BACKEND_HOST],
      ['Host', 'evil.example'],
    ],
    expected: { outcome: 'ignored' },
  },

  // --- Node's header-count cap (server.maxHeadersCount) -------------------
  {
    name: "a trusted proxy's X-Forwarded-For appended after 1,100 junk lines is refused with 431, not replaced by the client's forged line",
    source: 'issue 14 item 2; HAProxy option forwardfor and Caddy append their lines last',
    options: XFF_ONLY,
    peer: PROXY,
    headers: withHost(
      ['X-Forwarded-For', FORGED],
      ...junkLines(1100),
      ['X-Forwarded-For', CLIENT],
      ['Connection', 'close'],
    ),
    expected: { outcome: 'too-many-headers' },
  },
  {
    name: 'a trusted proxy at exactly the header-line cap is refused: lines past it may be lost without a trace',
    source: 'issue 14 item 2',
    options: X_FORWARDED,
    peer: PROXY,
    headers: withHost(
      ...junkLines(NODE_MAX_HEADER_LINES - 3),
      ['X-Forwarded-Proto', 'https'],
      ['Connection', 'close'],
    ),
    expected: { outcome: 'too-many-headers' },
  },
  {
    name: 'a trusted proxy one line under the header-line cap is read as usual',
    options: X_FORWARDED,
    peer: PROXY,
    headers: withHost(
      ...junkLines(NODE_MAX_HEADER_LINES - 4),
      ['X-Forwarded-Proto', 'https'],
      ['Connection', 'close'],
    ),
    expected: { outcome: 'used', view: { scheme: 'https' } },
  },
  {
    name: 'a trusted proxy over the cap with Forwarded is refused too',
    source: 'issue 14 item 2',
    options: FORWARDED,
    peer: PROXY,
    headers: withHost(
      ['Forwarded', `for=${FORGED};proto=https`],
      ...junkLines(1100),
      ['Forwarded', `for=${CLIENT}`],
      ['Connection', 'close'],
    ),
    expected: { outcome: 'too-many-headers' },
  },
  {
    name: 'forged proxy headers past the first 1,000 lines from an untrusted peer are removed from rawHeaders too',
    source: 'issue 14 item 2 (guarantee 4: headers never saw them, so they were never removed)',
    options: X_FORWARDED,
    peer: STRANGER,
    headers: withHost(
      ...junkLines(NODE_MAX_HEADER_LINES + 2),
      ['X-Forwarded-For', FORGED],
      ['Forwarded', `for=${FORGED}`],
      ['X-Forwarded-Host', 'evil.example'],
      ['Connection', 'close'],
    ),
    expected: { outcome: 'ignored', overNodeCap: true },
  },
  {
    name: 'forged proxy headers on both sides of the cap from an untrusted peer are all removed',
    source: 'issue 14 item 2',
    options: X_FORWARDED,
    peer: STRANGER,
    headers: withHost(
      ['X-Forwarded-For', FORGED],
      ...junkLines(NODE_MAX_HEADER_LINES),
      ['X-Forwarded-For', FORGED],
      ['Connection', 'close'],
    ),
    expected: { outcome: 'ignored', overNodeCap: true },
  },
  {
    name: 'untrusted X-Forwarded-* from a trusted Forwarded proxy are removed and headersDistinct still reads',
    source: 'issue 14 item 3 (headersDistinct read past the shortened rawHeaders: a TypeError)',
    options: FORWARDED,
    peer: PROXY,
    headers: withHost(
      ['X-Forwarded-For', FORGED],
      ['Forwarded', `for=${CLIENT};host=app.example;proto=https`],
      ['X-Forwarded-Proto', 'http'],
    ),
    expected: {
      outcome: 'used',
      view: { clientAddress: CLIENT, scheme: 'https', host: 'app.example' },
      headers: { host: 'app.example', 'x-forwarded-for': undefined },
    },
  },

  // --- X-Forwarded-Prefix: a prefix ends up in every link the app writes --
  ...(
    [
      ['a scheme-relative URL (an open redirect in every link)', '//evil.example'],
      ['a dot-dot segment', '/a/../b'],
      ['an encoded slash', '/a%2Fb'],
      ['a backslash', '/a\\evil.example'],
      ['an absolute URL', 'https://evil.example'],
      ['an encoded CR LF', '/a%0D%0ALocation:%20//evil.example'],
      ['10,000 characters', `/${'a'.repeat(10_000)}`],
    ] as const
  ).map(([what, value]): AdversarialCase => ({
    name: `X-Forwarded-Prefix with ${what} from a trusted proxy is refused`,
    source: 'fastify/fastify-swagger-ui#240; expressjs/serve-static (open redirect via prefix)',
    options: { trustedProxy: PROXY, trustedProxyHeaders: ['x-forwarded-prefix'] },
    peer: PROXY,
    headers: withHost(['X-Forwarded-Prefix', value]),
    expected: { outcome: 'malformed', header: 'X-Forwarded-Prefix' },
  })),
  {
    name: 'a forged X-Forwarded-Prefix from an untrusted peer is ignored and removed',
    options: { trustedProxy: PROXY, trustedProxyHeaders: ['x-forwarded-prefix'] },
    peer: STRANGER,
    headers: withHost(['X-Forwarded-Prefix', '//evil.example']),
    expected: { outcome: 'ignored' },
  },

  // --- allowedHosts: Host-header poisoning (password-reset links, caches) --
  ...(
    [
      ['another host', 'evil.example'],
      ['the allowed name as a prefix of another domain', 'app.example.evil.example'],
      ['a name that only ends like it', 'evilapp.example'],
      ['another port', 'app.example:8443'],
      ['an IPv6 literal', '[2001:db8::1]'],
      ['a trailing dot on another domain', 'evil.example.'],
    ] as const
  ).map(([what, host]): AdversarialCase => ({
    name: `allowedHosts refuses Host with ${what}`,
    source: 'Django CVE-2011-4139; ASP.NET Core HostFilteringMiddleware',
    options: { allowedHosts: ['app.example:80', 'app.example:8080', '.backend.test'] },
    peer: STRANGER,
    headers: [['Host', host]],
    expected: { outcome: 'host-not-allowed', host },
  })),
  {
    name: 'allowedHosts refuses a trusted forwarded host it does not list, whatever Host says',
    source: 'Django CVE-2012-4520 (X-Forwarded-Host poisoning)',
    options: { ...X_FORWARDED, allowedHosts: ['.backend.test'] },
    peer: PROXY,
    headers: withHost(['X-Forwarded-Host', 'evil.example']),
    expected: { outcome: 'host-not-allowed', host: 'evil.example' },
  },
  {
    name: 'allowedHosts passes its host in any case and with a trailing dot',
    options: { ...X_FORWARDED, allowedHosts: ['.backend.test'] },
    peer: STRANGER,
    headers: [['Host', 'API.Backend.Test.']],
    expected: { outcome: 'ignored' },
  },
];
