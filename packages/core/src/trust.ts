/**
 * Who is a trusted proxy. The `trustedProxy` option is compiled once into a
 * matcher; per request the engine only calls it.
 *
 * waitress compares the peer's address to one string (or `*`). We accept the
 * same, plus lists of addresses, CIDR ranges and the names proxy-addr made
 * familiar to Express users, and a function.
 */
import ipaddr from 'ipaddr.js';
import { isIPv4, parseIPv4, parseIPv6 } from './address.js';
import { WaitressProxyConfigError } from './errors.js';
import { keepLast } from './keep-last.js';

/**
 * Decides whether an address belongs to a trusted proxy. It receives the
 * address as the engine normalizes it: IPv4-mapped IPv6 unwrapped
 * (`10.0.0.5`, not `::ffff:10.0.0.5`), IPv6 without brackets, and
 * `localhost` for a peer without an address (a Unix socket).
 */
export type TrustFunction = (address: string) => boolean;

/**
 * The `trustedProxy` option (waitress: `trusted_proxy`).
 *
 * - an address (`'10.0.0.5'`, `'::1'`), as waitress takes it;
 * - `'*'`: every peer is a trusted proxy, as in waitress;
 * - `'localhost'` or `'unix'`: the peer of a Unix-socket server, which has
 *   no address (waitress names it `localhost`; `127.0.0.1` and `loopback` do
 *   not match it);
 * - a CIDR range (`'10.0.0.0/8'`, `'10.0.0.0/255.0.0.0'`, `'fd00::/8'`);
 * - a name: `'loopback'` (127.0.0.0/8, ::1), `'linklocal'` (169.254.0.0/16,
 *   fe80::/10), `'uniquelocal'` (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16,
 *   fc00::/7);
 * - several of those, in an array or one string separated by commas or
 *   spaces;
 * - a {@link TrustedProxySource}: ranges that change at run time, such as a
 *   CDN's published egress ranges (`@waitress-proxy/ranges`), alone or in
 *   an array beside strings (`['loopback', cloudflare()]`);
 * - a function `(address) => boolean`.
 *
 * An IPv4 entry also matches the same address in IPv4-mapped IPv6 form.
 */
export type TrustedProxy =
  string | TrustedProxySource | readonly (string | TrustedProxySource)[] | TrustFunction;

/**
 * A list of trusted proxies that changes while the app runs, read from
 * somewhere the app does not control at start-up (`@waitress-proxy/ranges`
 * builds them from a CDN's published list). The engine asks `contains` per
 * request, so it must answer from memory, at once; until the first load
 * succeeds it must answer false. Adapters hold requests until `ready()`
 * settles (Fastify's registration awaits it).
 */
export interface TrustedProxySource {
  /**
   * Whether `address` is in the current list. It receives the address as
   * the engine normalizes it (see {@link TrustFunction}).
   */
  contains(address: string): boolean;
  /** Resolves once the first load succeeded; rejects, with the reason, when it failed. */
  ready(): Promise<void>;
}

/** Whether `value` is a {@link TrustedProxySource}. */
export function isTrustedProxySource(value: unknown): value is TrustedProxySource {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { contains?: unknown }).contains === 'function' &&
    typeof (value as { ready?: unknown }).ready === 'function'
  );
}

/** The `TrustedProxySource`s in a `trustedProxy` option, in order. */
export function trustSourcesIn(trustedProxy: unknown): TrustedProxySource[] {
  if (isTrustedProxySource(trustedProxy)) return [trustedProxy];
  if (!Array.isArray(trustedProxy)) return [];
  return (trustedProxy as unknown[]).filter(isTrustedProxySource);
}

/** A compiled `trustedProxy`: true when `address` is a trusted proxy. */
export type TrustMatcher = (address: string) => boolean;

/** proxy-addr's named ranges, which Express users already write. */
const NAMED_RANGES: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.1/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/** waitress's name for a peer without an address (a Unix socket). */
export const UNIX_SOCKET_PEER = 'localhost';

/**
 * What to add to `trustedProxy` to trust `peer` (as the engine compared it),
 * in the advice of warnings and `explain`: the peer itself, or `unix` for a
 * Unix-socket peer, the spelling the docs use (waitress's `localhost` works
 * too), with why the loopback entries do not match it.
 */
export function trustedProxyAdvice(peer: string): string {
  return peer === UNIX_SOCKET_PEER
    ? 'add "unix" to trustedProxy (a Unix-socket peer has no address: "127.0.0.1" and ' +
        '"loopback" do not match it)'
    : `add "${peer}" to trustedProxy`;
}

/**
 * The peer of a TCP connection Node no longer reports an address for (it
 * closed before the request was resolved): RFC 7239's name for an unknown
 * node. Only `'*'` or a function can trust it.
 */
export const UNKNOWN_PEER = 'unknown';

interface IPv4Range {
  readonly base: number;
  readonly mask: number;
}

interface IPv6Range {
  readonly network: ipaddr.IPv6;
  readonly bits: number;
}

/** Entries split into the forms the matcher checks fastest. */
interface TrustTable {
  /** Canonical texts: IPv4, RFC 5952 IPv6, and `localhost`. */
  readonly exact: Set<string>;
  readonly v4Exact: Set<number>;
  readonly v4Ranges: IPv4Range[];
  readonly v6Ranges: IPv6Range[];
}

const trustNone: TrustMatcher = () => false;
const trustAll: TrustMatcher = () => true;

/** Splits a string option on commas and whitespace, dropping empty parts. */
export function splitList(value: string): string[] {
  return value.split(/[\s,]+/).filter((part) => part !== '');
}

/**
 * Compiles `trustedProxy` into a matcher. Throws a `WaitressProxyConfigError`
 * naming the bad entry when one is not understood. Returns undefined when no
 * proxy is trusted (the option is absent or empty).
 */
export function compileTrust(trustedProxy: unknown): TrustMatcher | undefined {
  if (trustedProxy === undefined || trustedProxy === null) return undefined;
  if (typeof trustedProxy === 'function') {
    const trust = trustedProxy as TrustFunction;
    // A function that throws (ipaddr.parse on `localhost` or `unknown`, say)
    // answers no: a bug in it must not turn a request into a 500 whose error
    // handler sees the forged headers.
    return (address) => {
      try {
        // Only a real `true` trusts: a function that returns a truthy object
        // by mistake must not open the door.
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-boolean-literal-compare
        return trust(address) === true;
      } catch {
        return false;
      }
    };
  }
  let entries: string[];
  const sources = trustSourcesIn(trustedProxy);
  if (typeof trustedProxy === 'string') {
    entries = splitList(trustedProxy);
  } else if (sources.length > 0 && !Array.isArray(trustedProxy)) {
    entries = [];
  } else if (Array.isArray(trustedProxy)) {
    entries = [];
    for (const entry of trustedProxy as unknown[]) {
      if (isTrustedProxySource(entry)) continue;
      if (typeof entry !== 'string') {
        throw new WaitressProxyConfigError(
          'trustedProxy',
          `trustedProxy entries must be strings or range sources, received ${describe(entry)}. ` +
            `Write addresses and ranges as strings, such as ['10.0.0.5', '10.1.0.0/16'].`,
        );
      }
      entries.push(...splitList(entry));
    }
  } else {
    throw new WaitressProxyConfigError(
      'trustedProxy',
      `trustedProxy must be a string, an array of strings, a range source or a function, received ${describe(trustedProxy)}.`,
    );
  }
  if (entries.includes('*')) return trustAll;
  if (entries.length === 0 && sources.length === 0) return undefined;

  const table: TrustTable = { exact: new Set(), v4Exact: new Set(), v4Ranges: [], v6Ranges: [] };
  for (const entry of entries) addEntry(table, entry);
  const fixed = matcherFor(table);
  return sources.length === 0 ? fixed : withSources(fixed, sources);
}

/**
 * The fixed entries first (their matcher keeps its last answer), then each
 * source, asked every time: its list may have changed since.
 */
function withSources(fixed: TrustMatcher, sources: readonly TrustedProxySource[]): TrustMatcher {
  if (sources.length === 1) {
    const source = sources[0] as TrustedProxySource;
    // Only a real `true` trusts, as for a trust function.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-boolean-literal-compare
    return (address) => fixed(address) || source.contains(address) === true;
  }
  return (address) => {
    if (fixed(address)) return true;
    for (const source of sources) {
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-boolean-literal-compare
      if (source.contains(address) === true) return true;
    }
    return false;
  };
}

function addEntry(table: TrustTable, entry: string): void {
  const named = NAMED_RANGES[entry.toLowerCase()];
  if (named !== undefined) {
    for (const range of named) addEntry(table, range);
    return;
  }
  // `unix` says what `localhost` means here: a peer without an address.
  if (entry.toLowerCase() === UNIX_SOCKET_PEER || entry.toLowerCase() === 'unix') {
    table.exact.add(UNIX_SOCKET_PEER);
    return;
  }
  const slash = entry.indexOf('/');
  if (slash === -1) {
    const v4 = parseIPv4(entry);
    if (v4 !== -1) {
      table.exact.add(entry);
      table.v4Exact.add(v4);
      return;
    }
    const v6 = parseIPv6(entry);
    if (v6 === undefined) throw invalidEntry(entry);
    if (v6.isIPv4MappedAddress()) {
      const mapped = v6.toIPv4Address().toString();
      table.exact.add(mapped);
      table.v4Exact.add(parseIPv4(mapped));
    } else {
      table.exact.add(v6.toString());
    }
    return;
  }
  addRange(table, entry, entry.slice(0, slash), entry.slice(slash + 1));
}

function addRange(table: TrustTable, entry: string, address: string, suffix: string): void {
  const v4 = parseIPv4(address);
  const v6 = v4 === -1 ? parseIPv6(address) : undefined;
  if (v4 === -1 && v6 === undefined) throw invalidEntry(entry);

  let bits: number;
  if (/^(0|[1-9][0-9]{0,2})$/.test(suffix)) {
    bits = Number(suffix);
  } else if (v4 !== -1 && isIPv4(suffix)) {
    // A netmask (`10.0.0.0/255.0.0.0`), as proxy-addr accepts.
    bits = ipaddr.IPv4.parse(suffix).prefixLengthFromSubnetMask() ?? -1;
  } else {
    bits = -1;
  }

  if (v4 !== -1) {
    if (bits < 0 || bits > 32) throw invalidEntry(entry);
    addIPv4Range(table, v4, bits);
    return;
  }
  if (v6 === undefined || bits < 0 || bits > 128) throw invalidEntry(entry);
  if (v6.isIPv4MappedAddress() && bits >= 96) {
    addIPv4Range(table, parseIPv4(v6.toIPv4Address().toString()), bits - 96);
    return;
  }
  table.v6Ranges.push({ network: v6, bits });
}

function addIPv4Range(table: TrustTable, address: number, bits: number): void {
  // `>>> 0` keeps the values unsigned 32-bit; a /0 mask is 0.
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  table.v4Ranges.push({ base: (address & mask) >>> 0, mask });
}

function invalidEntry(entry: string): WaitressProxyConfigError {
  return new WaitressProxyConfigError(
    'trustedProxy',
    `invalid trustedProxy entry "${entry}". Write an IP address ('10.0.0.5'), a CIDR range ` +
      `('10.0.0.0/8' or '10.0.0.0/255.0.0.0'), one of 'loopback', 'linklocal', 'uniquelocal', ` +
      `'unix' or 'localhost' (a Unix-socket peer) or '*', or pass a function (address) => boolean.`,
  );
}

/**
 * Above this many exact IPv4 entries a set lookup beats scanning them with
 * the ranges.
 */
const MAX_SCANNED_IPV4 = 16;

function matcherFor(table: TrustTable): TrustMatcher {
  const { exact, v4Exact, v6Ranges } = table;
  if (table.v4Ranges.length === 0 && v6Ranges.length === 0 && exact.size === 0) return trustNone;
  // IPv4 entries as one flat list of (base, mask) pairs, exact addresses as
  // /32 unless there are many: most peers are IPv4, matched without a set.
  const v4Set = v4Exact.size > MAX_SCANNED_IPV4 ? v4Exact : undefined;
  const v4Pairs: number[] = [];
  if (v4Set === undefined) for (const address of v4Exact) v4Pairs.push(address, 0xffffffff);
  for (const range of table.v4Ranges) v4Pairs.push(range.base, range.mask);
  const matchV4 = (v4: number): boolean => {
    if (v4Set?.has(v4) === true) return true;
    for (let i = 0; i < v4Pairs.length; i += 2) {
      if ((v4 & (v4Pairs[i + 1] ?? 0)) >>> 0 === v4Pairs[i]) return true;
    }
    return false;
  };
  // The IPv4 texts in `exact` are covered above: what is left is
  // `localhost` and canonical IPv6.
  const trustsLocalhost = exact.has(UNIX_SOCKET_PEER);
  const v6Exact = new Set([...exact].filter((entry) => entry.includes(':')));
  // The last answer, kept: behind a proxy nearly every request comes from
  // the same peer address. The table never changes, so the answer cannot.
  return keepLast(match);

  function match(address: string): boolean {
    const v4 = parseIPv4(address);
    if (v4 !== -1) return matchV4(v4);
    if (address === UNIX_SOCKET_PEER) return trustsLocalhost;
    // Node reports IPv6 peers in canonical form, so most lookups end here.
    if (v6Exact.has(address)) return true;
    const v6 = parseIPv6(address);
    if (v6 === undefined) return false;
    if (v6.isIPv4MappedAddress()) return matchV4(parseIPv4(v6.toIPv4Address().toString()));
    if (v6Exact.has(v6.toString())) return true;
    for (const range of v6Ranges) if (v6.match(range.network, range.bits)) return true;
    return false;
  }
}

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${typeof value} ${value.toString()}`;
  }
  return typeof value;
}

/**
 * The entry of `trustedProxy` that trusts `address`, as the user wrote it
 * (`"loopback"`, `"10.0.0.0/8"`, `a range source`, `the trust function`), for
 * `explain`. Each entry is compiled on its own: slow, and never per request.
 */
export function matchingEntry(trustedProxy: unknown, address: string): string | undefined {
  if (typeof trustedProxy === 'function') return 'the trust function';
  const entries: unknown[] =
    typeof trustedProxy === 'string'
      ? splitList(trustedProxy)
      : Array.isArray(trustedProxy)
        ? (trustedProxy as unknown[]).flatMap((entry) =>
            typeof entry === 'string' ? splitList(entry) : [entry],
          )
        : [trustedProxy];
  for (const entry of entries) {
    if (entry === undefined) continue;
    if (compileTrust(entry)?.(address) === true) {
      return typeof entry === 'string' ? JSON.stringify(entry) : 'a range source';
    }
  }
  return undefined;
}
