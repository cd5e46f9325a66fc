/**
 * Checking a loaded list before it is trusted. A published list is input
 * from outside the app: a captive portal, an error page, a truncated or
 * tampered file must never widen what the app trusts. So a list is taken
 * whole or not at all: one entry that is not an address or CIDR range, one
 * range wider than the limit, or an empty list refuses the whole list (the
 * last good list stays in use).
 */
import ipaddr from 'ipaddr.js';
import { RangeLoadError, excerpt } from './errors.js';

/** How wide and how long a list may be before it is refused. */
export interface RangeLimits {
  /** The shortest IPv4 prefix accepted (8: a /7 or a /0 is refused). */
  readonly ipv4: number;
  /** The shortest IPv6 prefix accepted (32: a /31 or a /0 is refused). */
  readonly ipv6: number;
  /** The most ranges a list may hold. */
  readonly maxRanges: number;
}

/** The longest entry worth parsing: an IPv6 address with a prefix length is at most 49 characters. */
const MAX_ENTRY_LENGTH = 64;

/**
 * The list's ranges, checked and normalized (`104.16.0.0/13`,
 * `2a06:98c0::/29`; a bare address becomes a /32 or /128), without
 * duplicates, in the order given. Throws a `RangeLoadError` naming `source`
 * and the first bad entry when any entry is refused.
 */
export function checkRanges(
  entries: Iterable<unknown>,
  limits: RangeLimits,
  source: string,
): string[] {
  const ranges = new Set<string>();
  for (const entry of entries) {
    if (typeof entry !== 'string') {
      throw new RangeLoadError(
        'WAITRESS_PROXY_RANGES_MALFORMED',
        `${source}: the list holds a ${entry === null ? 'null' : typeof entry} where a CIDR range was expected; the whole list is refused.`,
      );
    }
    ranges.add(checkRange(entry.trim(), limits, source));
    if (ranges.size > limits.maxRanges) {
      throw new RangeLoadError(
        'WAITRESS_PROXY_RANGES_REFUSED',
        `${source}: the list holds more than ${limits.maxRanges} ranges (maxRanges); the whole list is refused.`,
      );
    }
  }
  if (ranges.size === 0) {
    throw new RangeLoadError(
      'WAITRESS_PROXY_RANGES_REFUSED',
      `${source}: the list holds no range; an empty list is refused, never trusted.`,
    );
  }
  return [...ranges];
}

function checkRange(entry: string, limits: RangeLimits, source: string): string {
  const malformed = (why: string) =>
    new RangeLoadError(
      'WAITRESS_PROXY_RANGES_MALFORMED',
      `${source}: ${excerpt(entry)} ${why}; the whole list is refused.`,
    );
  if (entry.length === 0 || entry.length > MAX_ENTRY_LENGTH) {
    throw malformed('is not an IP address or CIDR range');
  }
  const slash = entry.indexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  const suffix = slash === -1 ? undefined : entry.slice(slash + 1);
  // Only a decimal prefix length: no netmask, no names such as `loopback`
  // or `*`, which the core's trustedProxy would understand and widen.
  if (suffix !== undefined && !/^(0|[1-9][0-9]?|1[0-2][0-9])$/.test(suffix)) {
    throw malformed('is not an IP address or CIDR range');
  }
  if (ipaddr.IPv4.isValidFourPartDecimal(address)) {
    const bits = suffix === undefined ? 32 : Number(suffix);
    if (bits > 32) throw malformed('has an IPv4 prefix longer than 32');
    if (bits < limits.ipv4)
      throw tooWide(source, entry, `/${limits.ipv4} for IPv4`, `ipv4: ${bits}`);
    return `${ipaddr.IPv4.networkAddressFromCIDR(`${address}/${bits}`).toString()}/${bits}`;
  }
  // ipaddr.js accepts zone identifiers (`fe80::1%eth0`), which name an
  // interface of the publisher's host and mean nothing here.
  if (address.includes('%') || !ipaddr.IPv6.isValid(address)) {
    throw malformed('is not an IP address or CIDR range');
  }
  const bits = suffix === undefined ? 128 : Number(suffix);
  // An IPv4-mapped range (`::ffff:0.0.0.0/96`) is an IPv4 range in
  // disguise: the core matches it against IPv4 peers, so `/96` would trust
  // every IPv4 address. A CDN publishes IPv4 ranges as IPv4.
  if (ipaddr.IPv6.parse(address).isIPv4MappedAddress()) {
    throw malformed('is an IPv4-mapped IPv6 range (write IPv4 ranges as IPv4)');
  }
  if (bits < limits.ipv6) throw tooWide(source, entry, `/${limits.ipv6} for IPv6`, `ipv6: ${bits}`);
  return `${ipaddr.IPv6.networkAddressFromCIDR(`${address}/${bits}`).toString()}/${bits}`;
}

function tooWide(source: string, entry: string, limit: string, allow: string): RangeLoadError {
  return new RangeLoadError(
    'WAITRESS_PROXY_RANGES_REFUSED',
    `${source}: ${excerpt(entry)} is wider than ${limit}; the whole list is refused ` +
      `(if the provider really publishes it, allow it with widestPrefix: { ${allow} }).`,
  );
}
