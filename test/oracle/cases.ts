/**
 * Generated requests for the differential test, with a fixed seed so every
 * run (and every failure) is the same. Configurations use only the forms
 * waitress understands the same way we do: `trustedProxy` is `*`, the peer's
 * exact address, `localhost` for a Unix socket, or an unrelated address; the
 * headers are mostly well-formed, so most requests reach the app and the
 * values can be compared, with hostile pieces mixed in.
 */
import fc from 'fast-check';
import type { OracleCase } from './differences.js';

export const SEED = 7239;

const X_FORWARDED = [
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
];

const junk = fc.string({
  unit: fc.constantFrom(...'ab1:.[]",;= \\_%/-'.split('')),
  minLength: 1,
  maxLength: 8,
});
const port = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 65535 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('0', '65536', '-1', '08080', '1e3', '_p', '') },
);
const ipv6 = fc.oneof(
  fc.ipV6(),
  fc.constantFrom('2001:db8::1', '::ffff:192.0.2.1', '::FFFF:192.0.2.1', 'fe80::1%eth0'),
);
const address = fc.oneof(
  { weight: 6, arbitrary: fc.ipV4() },
  { weight: 1, arbitrary: fc.ipV4Extended() },
  { weight: 2, arbitrary: ipv6 },
  { weight: 1, arbitrary: fc.constantFrom('unknown', '_hidden') },
);
const node = fc.oneof(
  { weight: 6, arbitrary: address },
  { weight: 2, arbitrary: fc.tuple(fc.ipV4(), port).map(([a, p]) => `${a}:${p}`) },
  { weight: 2, arbitrary: fc.tuple(ipv6, port).map(([a, p]) => `[${a}]:${p}`) },
  { weight: 1, arbitrary: ipv6.map((a) => `[${a}]`) },
  { weight: 1, arbitrary: junk },
);
const hostname = fc.oneof(
  { weight: 6, arbitrary: fc.domain() },
  { weight: 1, arbitrary: fc.ipV4() },
  { weight: 1, arbitrary: fc.ipV6().map((a) => `[${a}]`) },
  { weight: 1, arbitrary: junk },
);
const host = fc.oneof(
  { weight: 3, arbitrary: hostname },
  { weight: 2, arbitrary: fc.tuple(hostname, port).map(([h, p]) => `${h}:${p}`) },
);
const proto = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('http', 'https', 'HTTPS') },
  { weight: 1, arbitrary: fc.constantFrom('javascript', 'https, http', 'ws', '') },
);

function quotedSometimes(arb: fc.Arbitrary<string>, weight = 1): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: arb },
    { weight, arbitrary: arb.map((s) => `"${s}"`) },
    { weight: 1, arbitrary: arb.map((s) => `"${s}`) },
  );
}
function list(arb: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.array(arb, { minLength: 1, maxLength: 5 }),
      fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(', ', ',') },
        { weight: 1, arbitrary: fc.constantFrom(',,', ', ,') },
      ),
      fc.oneof(
        { weight: 8, arbitrary: fc.constant('') },
        { weight: 1, arbitrary: fc.constant(',') },
      ),
    )
    .map(([items, separator, trailing]) => items.join(separator) + trailing);
}

/** RFC 7239 wants `:` and `[` quoted; proxies do, and some do not. */
function forwardedValue(arb: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof(
    arb.map((v) => (/[:[\]]/.test(v) ? `"${v}"` : v)),
    quotedSometimes(arb),
  );
}
const pair = fc.oneof(
  { weight: 4, arbitrary: forwardedValue(node).map((v) => `for=${v}`) },
  { weight: 3, arbitrary: forwardedValue(host).map((v) => `host=${v}`) },
  { weight: 3, arbitrary: forwardedValue(proto).map((v) => `proto=${v}`) },
  { weight: 1, arbitrary: forwardedValue(node).map((v) => `by=${v}`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('For=192.0.2.9', 'secret=x', 'for', ' for=1.2.3.4', 'for =1.2.3.4'),
  },
);
const element = fc
  .tuple(
    fc.uniqueArray(pair, { minLength: 1, maxLength: 3, selector: (p) => p.split('=')[0] }),
    fc.boolean(),
  )
  .map(([pairs, repeat]) => (repeat && pairs.length > 2 ? [...pairs, pairs[0]!] : pairs).join(';'));

const peerArb = fc.constantFrom(
  '10.0.0.1',
  '127.0.0.1',
  '::1',
  '2001:db8::5',
  '::ffff:10.0.0.1',
  null,
  '192.0.2.200',
);

export const caseArb: fc.Arbitrary<OracleCase> = fc
  .record({
    peer: peerArb,
    trust: fc.oneof(
      { weight: 3, arbitrary: fc.constant('*') },
      { weight: 3, arbitrary: fc.constant('peer') },
      { weight: 1, arbitrary: fc.constant('192.0.2.99') },
    ),
    trustedProxyCount: fc.integer({ min: 1, max: 3 }),
    trustedProxyHeaders: fc.oneof(
      { weight: 3, arbitrary: fc.subarray(X_FORWARDED, { minLength: 1 }) },
      { weight: 2, arbitrary: fc.constant(['forwarded']) },
    ),
    clearUntrusted: fc.boolean(),
    host: fc.option(host, { nil: undefined }),
    xff: fc.option(list(quotedSometimes(node)), { nil: undefined }),
    xfh: fc.option(list(quotedSometimes(host)), { nil: undefined }),
    xfproto: fc.option(quotedSometimes(proto), { nil: undefined }),
    xfport: fc.option(quotedSometimes(port), { nil: undefined }),
    forwarded: fc.option(list(element), { nil: undefined }),
  })
  .map((r): OracleCase => {
    const headers: Record<string, string> = {};
    if (r.host !== undefined) headers.Host = r.host;
    if (r.xff !== undefined) headers['X-Forwarded-For'] = r.xff;
    if (r.xfh !== undefined) headers['X-Forwarded-Host'] = r.xfh;
    if (r.xfproto !== undefined) headers['X-Forwarded-Proto'] = r.xfproto;
    if (r.xfport !== undefined) headers['X-Forwarded-Port'] = r.xfport;
    if (r.forwarded !== undefined) headers.Forwarded = r.forwarded;
    const peerName = r.peer ?? 'localhost';
    return {
      peer: r.peer,
      peerPort: 50000,
      localPort: 8080,
      trustedProxy: r.trust === 'peer' ? peerName : r.trust,
      trustedProxyCount: r.trustedProxyCount,
      trustedProxyHeaders: r.trustedProxyHeaders,
      clearUntrusted: r.clearUntrusted,
      headers,
    };
  });

/** The same `count` cases on every run. */
export function generateCases(count: number): OracleCase[] {
  return fc.sample(caseArb, { seed: SEED, numRuns: count });
}
