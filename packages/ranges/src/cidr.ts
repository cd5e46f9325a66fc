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
  /**
   * Refuse ranges that touch loopback, private, link-local, documentation
   * or other special-purpose space: a CDN's egress is public unicast, and a
   * tampered list adding `127.0.0.0/8` or `10.0.0.0/8` (within the width
   * limit) would make the app's own neighbours trusted proxies.
   */
  readonly publicOnly: boolean;
  /**
   * Refuse an entry without a prefix length (the presets: a CDN publishes
   * CIDR ranges, so a bare address is a line cut short, `2a06:98c0::`
   * for `2a06:98c0::/29`).
   */
  readonly requirePrefix?: boolean;
  /** Refuse a list without both an IPv4 and an IPv6 range (the presets: every CDN publishes both). */
  readonly bothFamilies?: boolean;
}

/**
 * Special-purpose blocks (RFC 6890 and its updates: IANA's IPv4 and IPv6
 * special-purpose address registries) that no CDN egresses from.
 */
const SPECIAL_BLOCKS: readonly [ipaddr.IPv4 | ipaddr.IPv6, number][] = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '192.31.196.0/24',
  '192.52.193.0/24',
  '192.88.99.0/24',
  '192.175.48.0/24',
  '224.0.0.0/3',
  '::/127',
  '64:ff9b::/96',
  '64:ff9b:1::/48',
  '100::/64',
  '100:0:0:1::/64',
  '2001::/23',
  '2001:db8::/32',
  '2002::/16',
  '2620:4f:8000::/48',
  '3fff::/20',
  '5f00::/16',
  'fc00::/7',
  'fe80::/10',
  'ff00::/8',
].map((block) => ipaddr.parseCIDR(block));

/** The special-purpose block `range` overlaps, if any. */
function specialBlockOf(range: string): string | undefined {
  const [network, bits] = ipaddr.parseCIDR(range);
  for (const [block, blockBits] of SPECIAL_BLOCKS) {
    if (block.kind() !== network.kind()) continue;
    // Two CIDR ranges overlap when one holds the other's network address
    // at the shorter of the two prefixes.
    const shorter = Math.min(bits, blockBits);
    if (network.match(block, shorter)) return `${block.toString()}/${blockBits}`;
  }
  return undefined;
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
  let count = 0;
  let ipv4 = false;
  let ipv6 = false;
  for (const entry of entries) {
    // Counted before it is parsed, duplicates included: a list of one
    // range repeated a million times is refused after maxRanges entries,
    // not parsed whole on the event loop.
    if (++count > limits.maxRanges) {
      throw new RangeLoadError(
        'WAITRESS_PROXY_RANGES_REFUSED',
        `${source}: the list holds more than ${limits.maxRanges} ranges (maxRanges), duplicates counted; the whole list is refused.`,
      );
    }
    if (typeof entry !== 'string') {
      throw new RangeLoadError(
        'WAITRESS_PROXY_RANGES_MALFORMED',
        `${source}: the list holds a ${entry === null ? 'null' : typeof entry} where a CIDR range was expected; the whole list is refused.`,
      );
    }
    const range = checkRange(entry.trim(), limits, source);
    const special = limits.publicOnly ? specialBlockOf(range) : undefined;
    if (special !== undefined) {
      throw new RangeLoadError(
        'WAITRESS_PROXY_RANGES_REFUSED',
        `${source}: ${excerpt(entry.trim())} overlaps ${special}, which is not public address space; ` +
          `a CDN does not egress from it, and the whole list is refused.`,
      );
    }
    ranges.add(range);
    if (range.includes(':')) ipv6 = true;
    else ipv4 = true;
  }
  if (ranges.size === 0) {
    throw new RangeLoadError(
      'WAITRESS_PROXY_RANGES_REFUSED',
      `${source}: the list holds no range; an empty list is refused, never trusted.`,
    );
  }
  if (limits.bothFamilies === true && ranges.size > 0 && !(ipv4 && ipv6)) {
    throw new RangeLoadError(
      'WAITRESS_PROXY_RANGES_REFUSED',
      `${source}: the list holds no ${ipv4 ? 'IPv6' : 'IPv4'} range; the provider publishes both, ` +
        `so the list is cut short or not the provider's, and the whole list is refused.`,
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
  const noPrefix = () =>
    malformed('has no prefix length (the provider publishes CIDR ranges: a line cut short?)');
  if (ipaddr.IPv4.isValidFourPartDecimal(address)) {
    if (suffix === undefined && limits.requirePrefix === true) throw noPrefix();
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
  // An embedded dotted quad (`::1.2.3.4`) must be strict decimal as well:
  // ipaddr.js reads `010.000.0.1` and `0x7f.0.0.1` in other bases.
  if (
    address.includes('.') &&
    !ipaddr.IPv4.isValidFourPartDecimal(address.slice(address.lastIndexOf(':') + 1))
  ) {
    throw malformed('has an embedded IPv4 address that is not four decimal numbers');
  }
  if (suffix === undefined && limits.requirePrefix === true) throw noPrefix();
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
