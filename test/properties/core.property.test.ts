/**
 * Properties of the core that must hold for every configuration, peer and
 * header set, checked with fast-check against generated input: hostile
 * building blocks (non-canonical IPv4 from `fc.ipV4Extended`, IPv6 in every
 * spelling, bad ports, quotes, separators) mixed with arbitrary text.
 *
 * Trust is decided here by a predicate written beside each `trustedProxy`
 * value, not by asking the core, so "untrusted" means untrusted.
 */
import fc from 'fast-check';
import {
  applyHeaderChanges,
  compileOptions,
  explain,
  formatExplanation,
  resolve,
} from '@waitress-proxy/core';
import type {
  ProxyLogger,
  RequestHeaders,
  RequestInput,
  WaitressProxyOptions,
} from '@waitress-proxy/core';
import { BlockList, isIP, isIPv6 } from 'node:net';

const PROXY_HEADERS = [
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-forwarded-by',
  'forwarded',
] as const;
const X_FORWARDED = PROXY_HEADERS.filter((name) => name !== 'forwarded');

const silent: ProxyLogger = { warn: () => undefined };
const LOCAL_PORT = 8080;
const PEER_PORT = 50123;

/** A `trustedProxy` value with an independent statement of whom it trusts. */
interface TrustCase {
  readonly trustedProxy: string | readonly string[];
  /** Whether the (unmapped) peer address is trusted; `localhost` is a Unix socket. */
  readonly trusts: (peer: string) => boolean;
}

const TRUST: readonly TrustCase[] = [
  { trustedProxy: '*', trusts: () => true },
  { trustedProxy: '127.0.0.5', trusts: (p) => p === '127.0.0.5' },
  { trustedProxy: '10.0.0.0/8', trusts: (p) => isIP(p) === 4 && p.startsWith('10.') },
  {
    trustedProxy: 'loopback',
    trusts: (p) => (isIP(p) === 4 && p.startsWith('127.')) || p === '::1',
  },
  { trustedProxy: '::1', trusts: (p) => p === '::1' },
  { trustedProxy: 'localhost', trusts: (p) => p === 'localhost' },
  {
    trustedProxy: ['127.0.0.5', '2001:db8::/32'],
    trusts: (p) => p === '127.0.0.5' || (isIPv6(p) && p.toLowerCase().startsWith('2001:db8:')),
  },
];

/** The peer as Node reports it: IPv4, IPv4-mapped, IPv6, or none (Unix socket). */
const peerArb = fc.constantFrom(
  undefined,
  '127.0.0.5',
  '::ffff:127.0.0.5',
  '127.0.0.9',
  '10.1.2.3',
  '::ffff:10.1.2.3',
  '192.0.2.1',
  '::1',
  '2001:db8::5',
);

const configArb = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      // '*' most often, so most requests reach the header parsers.
      trust: fc.oneof(
        { arbitrary: fc.constant(TRUST[0]!), weight: TRUST.length },
        { arbitrary: fc.constantFrom(...TRUST), weight: TRUST.length },
      ),
      trustedProxyCount: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.constant(Infinity)),
      trustedProxyHeaders: fc.oneof(fc.subarray([...X_FORWARDED]), fc.constant(['forwarded'])),
      clearUntrustedProxyHeaders: fc.boolean(),
      requireTrustedHops: fc.boolean(),
      urlScheme: fc.constantFrom(undefined, 'http' as const, 'https' as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      trust: fc.constant(undefined),
      trustedProxyCount: fc.constant(undefined),
      trustedProxyHeaders: fc.constant(undefined),
      clearUntrustedProxyHeaders: fc.boolean(),
      requireTrustedHops: fc.constant(undefined),
      urlScheme: fc.constantFrom(undefined, 'http' as const, 'https' as const),
    }),
  },
);
type Config = typeof configArb extends fc.Arbitrary<infer T> ? T : never;

function optionsOf(config: Config): WaitressProxyOptions {
  return {
    trustedProxy: config.trust?.trustedProxy,
    trustedProxyCount: config.trustedProxyCount,
    trustedProxyHeaders: config.trustedProxyHeaders,
    clearUntrustedProxyHeaders: config.clearUntrustedProxyHeaders,
    requireTrustedHops: config.requireTrustedHops,
    urlScheme: config.urlScheme,
    logger: silent,
  };
}

/** The headers a trusted peer may set under `config` (waitress's default: proto only). */
function trustedHeadersOf(config: Config): readonly string[] {
  if (config.trust === undefined) return [];
  const names = config.trustedProxyHeaders;
  return names.length === 0 ? ['x-forwarded-proto'] : names;
}

// --- Hostile building blocks ------------------------------------------------

const junk = fc.string({
  unit: fc.constantFrom(...'ab1:.[]",;= \\_%/@-\t'.split('')),
  maxLength: 10,
});
const portText = fc.oneof(
  fc.integer({ min: 0, max: 70000 }).map(String),
  fc.constantFrom('-1', '08080', '1e3', '+443', '', '_p'),
);
const ipv6Text = fc.oneof(
  fc.ipV6(),
  fc.constantFrom(
    '2001:db8::1',
    '2001:DB8:0:0:0:0:0:1',
    '::ffff:192.0.2.1',
    '::FFFF:192.0.2.1',
    '0:0:0:0:0:ffff:192.0.2.9',
    '::ffff:0x7f.0.0.1',
    '::ffff:010.0.0.1',
    'fe80::1%eth0',
  ),
);
const nodeText = fc.oneof(
  fc.ipV4(),
  fc.ipV4Extended(),
  ipv6Text,
  fc.tuple(fc.ipV4(), portText).map(([a, p]) => `${a}:${p}`),
  fc.tuple(ipv6Text, portText).map(([a, p]) => `[${a}]:${p}`),
  fc.constantFrom('unknown', 'UNKNOWN', '_hidden', '_hidden:_port'),
  junk,
  // Mostly well-formed addresses, so the window often parses.
  fc.ipV4(),
  fc.ipV4(),
  fc.ipV6(),
);
const hostText = fc.oneof(
  fc.domain(),
  fc.tuple(fc.domain(), portText).map(([d, p]) => `${d}:${p}`),
  fc.tuple(ipv6Text, portText).map(([a, p]) => `[${a}]:${p}`),
  fc.ipV4Extended(),
  junk,
  fc.domain(),
  fc.domain(),
);
const protoText = fc.oneof(
  fc.constantFrom('http', 'https', 'HTTPS', 'javascript', 'https, http', ''),
  junk,
);

function maybeQuoted(arb: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: arb, weight: 3 },
    { arbitrary: arb.map((s) => `"${s}"`), weight: 1 },
  );
}
function list(arb: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc
    .tuple(fc.array(arb, { maxLength: 6 }), fc.constantFrom(', ', ',', ' , ', ',,'))
    .map(([items, separator]) => items.join(separator));
}
const forwardedPair = fc.oneof(
  maybeQuoted(nodeText).map((v) => `for=${v}`),
  maybeQuoted(hostText).map((v) => `host=${v}`),
  maybeQuoted(protoText).map((v) => `proto=${v}`),
  maybeQuoted(nodeText).map((v) => `by=${v}`),
  fc
    .tuple(fc.constantFrom('For', 'FOR', ' for', 'for ', 'x', ''), maybeQuoted(nodeText))
    .map(([token, v]) => `${token}=${v}`),
  junk,
);
const forwardedElement = fc
  .tuple(fc.array(forwardedPair, { maxLength: 4 }), fc.constantFrom(';', ';;', '; '))
  .map(([pairs, separator]) => pairs.join(separator));

/** A header value as Node gives it, sometimes as an array of lines. */
function headerValue(arb: fc.Arbitrary<string>): fc.Arbitrary<string | string[]> {
  return fc.oneof(
    { arbitrary: arb, weight: 4 },
    { arbitrary: fc.array(arb, { minLength: 1, maxLength: 3 }), weight: 1 },
  );
}

const headersArb: fc.Arbitrary<Record<string, string | string[] | undefined>> = fc.record(
  {
    host: fc.oneof(hostText, fc.constant('backend.test')),
    'x-forwarded-for': headerValue(list(maybeQuoted(nodeText))),
    'x-forwarded-host': headerValue(list(maybeQuoted(hostText))),
    'x-forwarded-proto': headerValue(maybeQuoted(protoText)),
    'x-forwarded-port': headerValue(maybeQuoted(portText)),
    'x-forwarded-by': headerValue(list(nodeText)),
    forwarded: headerValue(list(forwardedElement)),
  },
  { requiredKeys: [] },
);

/** Any text at all in every proxy header, for the never-throws property. */
const anyHeadersArb: fc.Arbitrary<Record<string, string | string[] | undefined>> = fc.record(
  Object.fromEntries(
    ['host', ...PROXY_HEADERS].map((name) => [
      name,
      headerValue(fc.string({ unit: 'binary', maxLength: 40 })),
    ]),
  ),
  { requiredKeys: [] },
);

// --- Helpers ------------------------------------------------------------------

function inputOf(peer: string | undefined, headers: RequestHeaders): RequestInput {
  return {
    peerAddress: peer,
    peerPort: PEER_PORT,
    localPort: LOCAL_PORT,
    encrypted: false,
    headers,
    url: '/',
  };
}

/** The peer as the app should see it: IPv4-mapped unwrapped, `localhost` for a Unix socket. */
function normalPeer(peer: string | undefined): string {
  if (peer === undefined) return 'localhost';
  return peer.startsWith('::ffff:') && isIP(peer.slice(7)) === 4 ? peer.slice(7) : peer;
}

function joined(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * True when `element` writes the IPv6 address `address` in any spelling (the
 * core shows one spelling: D10), compared as binary addresses by Node's
 * BlockList: runs of hex digits, colons and dots, whole or with a trailing
 * `:port` cut off. An IPv4 `address` is compared as its mapped form.
 */
function writesAddress(element: string, address: string): boolean {
  const list = new BlockList();
  for (const run of element.match(/[0-9a-f:.]+/gi) ?? []) {
    for (const text of [run, run.slice(0, run.lastIndexOf(':'))]) {
      if (isIPv6(text)) list.addAddress(text, 'ipv6');
    }
  }
  if (isIPv6(address)) return list.check(address, 'ipv6');
  return isIP(address) === 4 && list.check(`::ffff:${address}`, 'ipv6');
}

/** The last `count` non-empty elements of a comma-separated value. */
function windowElements(value: string | undefined, count: number): string[] {
  if (value === undefined) return [];
  const elements = value
    .split(',')
    .map((element) => element.trim())
    .filter((element) => element !== '');
  return count === Infinity ? elements : elements.slice(-count);
}

/** RFC 7230 `uri-host [ ":" port ]` as D4 narrows it, checked independently of the core. */
function isValidHost(host: string): boolean {
  let name = host;
  let port: string | undefined;
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close === -1 || !isIPv6(host.slice(1, close))) return false;
    name = host.slice(0, close + 1);
    const rest = host.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return false;
      port = rest.slice(1);
    }
  } else {
    const colon = host.indexOf(':');
    if (colon !== -1) {
      name = host.slice(0, colon);
      port = host.slice(colon + 1);
    }
    if (!/^[A-Za-z0-9._~-]+$/.test(name)) return false;
  }
  return port === undefined || (/^[1-9][0-9]{0,4}$/.test(port) && Number(port) <= 65535);
}

const RUNS = { numRuns: 400 };

describe('core properties (fast-check)', () => {
  it('never throws, whatever the configuration, peer and header text', () => {
    fc.assert(
      fc.property(
        configArb,
        peerArb,
        fc.oneof(headersArb, anyHeadersArb),
        (config, peer, headers) => {
          const result = resolve(compileOptions(optionsOf(config)), inputOf(peer, headers));
          if (result.ok) {
            applyHeaderChanges({ headers: { ...headers }, rawHeaders: [] }, result.headerChanges);
          } else {
            expect(result.error.statusCode).toBe(400);
          }
        },
      ),
      { numRuns: 600 },
    );
  });

  it('explain gives exactly what resolve gives, and its wording never throws', () => {
    fc.assert(
      fc.property(
        configArb,
        peerArb,
        fc.oneof(headersArb, anyHeadersArb),
        (config, peer, headers) => {
          const options = compileOptions(optionsOf(config));
          const input = inputOf(peer, headers);
          const explanation = explain(options, input);
          expect(explanation.resolution).toEqual(resolve(options, input));
          expect(formatExplanation(explanation)).toContain(`peer ${normalPeer(peer)}`);
        },
      ),
      RUNS,
    );
  });

  it("an untrusted peer always gets the direct connection's view", () => {
    fc.assert(
      fc.property(configArb, peerArb, headersArb, (config, peer, headers) => {
        fc.pre(config.trust === undefined || !config.trust.trusts(normalPeer(peer)));
        const result = resolve(compileOptions(optionsOf(config)), inputOf(peer, headers));
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        const host = joined(headers.host);
        expect(result.view).toMatchObject({
          clientAddress: normalPeer(peer),
          clientPort: PEER_PORT,
          scheme: config.urlScheme ?? 'http',
          host,
          port: LOCAL_PORT,
          ips: [],
          peerTrusted: false,
        });
      }),
      RUNS,
    );
  });

  it('the client address is the peer or an entry inside the trusted window', () => {
    fc.assert(
      fc.property(configArb, peerArb, headersArb, (config, peer, headers) => {
        const result = resolve(compileOptions(optionsOf(config)), inputOf(peer, headers));
        if (!result.ok) return;
        const { clientAddress, ips } = result.view;
        const count = config.trustedProxyCount ?? 1;
        expect(ips.length).toBeLessThanOrEqual(count);
        if (clientAddress === normalPeer(peer)) return;
        const trusted = trustedHeadersOf(config);
        const source = trusted.includes('forwarded')
          ? joined(headers.forwarded)
          : trusted.includes('x-forwarded-for')
            ? joined(headers['x-forwarded-for'])
            : undefined;
        const window = windowElements(source, count).map((e) => e.toLowerCase());
        expect([
          clientAddress,
          window.some(
            (e) => e.includes(clientAddress.toLowerCase()) || writesAddress(e, clientAddress),
          ),
        ]).toEqual([clientAddress, true]);
        expect(ips[0]).toBe(clientAddress);
      }),
      RUNS,
    );
  });

  it('a forwarded client address is a canonical IP address (IPv4-mapped shown as IPv4), unknown or obfuscated (D1, D2, D10)', () => {
    fc.assert(
      fc.property(configArb, peerArb, headersArb, (config, peer, headers) => {
        const result = resolve(compileOptions(optionsOf(config)), inputOf(peer, headers));
        if (!result.ok) return;
        for (const address of [result.view.clientAddress, ...result.view.ips]) {
          if (address === normalPeer(peer)) continue;
          const named = address.toLowerCase() === 'unknown' || /^_[A-Za-z0-9._-]+$/.test(address);
          // net.isIP accepts IPv4 only in four-part decimal form, also inside IPv6.
          const ip = isIP(address) !== 0 && !/^(0{0,4}:){0,5}:?ffff:[0-9.]+$/i.test(address);
          expect([address, named || ip]).toEqual([address, true]);
        }
      }),
      RUNS,
    );
  });

  it('the host is the Host header as sent or a valid host', () => {
    fc.assert(
      fc.property(configArb, peerArb, headersArb, (config, peer, headers) => {
        const result = resolve(compileOptions(optionsOf(config)), inputOf(peer, headers));
        if (!result.ok) return;
        const { host } = result.view;
        if (host === joined(headers.host)) return;
        expect([host, host !== undefined && isValidHost(host)]).toEqual([host, true]);
      }),
      RUNS,
    );
  });

  it('with clearing on, no untrusted proxy header survives', () => {
    fc.assert(
      fc.property(configArb, peerArb, headersArb, (config, peer, headers) => {
        fc.pre(config.clearUntrustedProxyHeaders);
        const result = resolve(compileOptions(optionsOf(config)), inputOf(peer, headers));
        if (!result.ok) return;
        const after: Record<string, string | string[] | undefined> = { ...headers };
        applyHeaderChanges({ headers: after, rawHeaders: [] }, result.headerChanges);
        const peerTrusted = config.trust?.trusts(normalPeer(peer)) ?? false;
        const allowed = peerTrusted ? trustedHeadersOf(config) : [];
        const survivors = PROXY_HEADERS.filter((name) => after[name] !== undefined);
        expect(survivors.filter((name) => !allowed.includes(name))).toEqual([]);
      }),
      RUNS,
    );
  });

  it('resolving the rewritten headers again from the same peer gives the same view', () => {
    fc.assert(
      fc.property(configArb, peerArb, headersArb, (config, peer, headers) => {
        const options = compileOptions(optionsOf(config));
        const first = resolve(options, inputOf(peer, headers));
        if (!first.ok) return;
        const after: Record<string, string | string[] | undefined> = { ...headers };
        applyHeaderChanges({ headers: after, rawHeaders: [] }, first.headerChanges);
        const second = resolve(options, inputOf(peer, after));
        expect(second.ok).toBe(true);
        if (second.ok) expect(second.view).toEqual(first.view);
      }),
      RUNS,
    );
  });
});
