/**
 * Checking a loaded list before it is trusted. A published list is input
 * from outside the app: a captive portal, an error page, a truncated or
 * tampered file must never widen what the app trusts. So a list is taken
 * whole or not at all: one entry that is not an address or CIDR range, one
 * range wider than the limit, or an empty list refuses the whole list (the
 * last good list stays in use).
 */
import ipaddr from 'ipaddr.js';
import { parseIPv4, parseIPv6 } from '@waitress-proxy/core/internal';
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

/** An address as numbers: 4 octets (IPv4) or 8 16-bit groups (IPv6). */
interface Parts {
  readonly v6: boolean;
  readonly parts: readonly number[];
}

/** The address with every bit after the first `bits` cleared. */
function networkOf(address: Parts, bits: number): number[] {
  const width = address.v6 ? 16 : 8;
  return address.parts.map((part, index) => {
    const kept = Math.min(Math.max(bits - index * width, 0), width);
    return kept === 0 ? 0 : part & ~((1 << (width - kept)) - 1) & ((1 << width) - 1);
  });
}

/** Whether `a/aBits` and `b/bBits` (same family) overlap: equal on the shorter prefix. */
function overlaps(a: Parts, aBits: number, b: Parts, bBits: number): boolean {
  const width = a.v6 ? 16 : 8;
  let left = Math.min(aBits, bBits);
  for (let index = 0; left > 0; index++, left -= width) {
    const shift = width - Math.min(left, width);
    if ((a.parts[index] ?? 0) >> shift !== (b.parts[index] ?? 0) >> shift) return false;
  }
  return true;
}

/** `a.b.c.d` or the canonical IPv6 text (RFC 5952, as ipaddr.js writes it). */
function format(address: Parts): string {
  return address.v6 ? new ipaddr.IPv6([...address.parts]).toString() : address.parts.join('.');
}

/**
 * Special-purpose blocks (RFC 6890 and its updates: IANA's IPv4 and IPv6
 * special-purpose address registries) that no CDN egresses from.
 */
const SPECIAL_BLOCKS: readonly { address: Parts; bits: number; text: string }[] = [
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
].map((text) => {
  const [network, bits] = ipaddr.parseCIDR(text);
  const v6 = network.kind() === 'ipv6';
  const parts = v6 ? (network as ipaddr.IPv6).parts : (network as ipaddr.IPv4).octets;
  return { address: { v6, parts }, bits, text };
});

const SPECIAL_V4 = SPECIAL_BLOCKS.filter((block) => !block.address.v6);
const SPECIAL_V6 = SPECIAL_BLOCKS.filter((block) => block.address.v6);

/** The special-purpose block `network/bits` overlaps, if any. */
function specialBlockOf(network: Parts, bits: number): string | undefined {
  for (const block of network.v6 ? SPECIAL_V6 : SPECIAL_V4) {
    if (overlaps(network, bits, block.address, block.bits)) return block.text;
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
    const [network, bits] = checkRange(entry.trim(), limits, source);
    const special = limits.publicOnly ? specialBlockOf(network, bits) : undefined;
    if (special !== undefined) {
      throw new RangeLoadError(
        'WAITRESS_PROXY_RANGES_REFUSED',
        `${source}: ${excerpt(entry.trim())} overlaps ${special}, which is not public address space; ` +
          `a CDN does not egress from it, and the whole list is refused.`,
      );
    }
    ranges.add(`${format(network)}/${bits}`);
    if (network.v6) ipv6 = true;
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

/**
 * The network address and prefix length of `entry`, parsed once (a list of
 * maxRanges entries is checked on the event loop: each entry costs a few
 * microseconds).
 */
function checkRange(entry: string, limits: RangeLimits, source: string): [Parts, number] {
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
  // The core's readers, as trustedProxy parses its entries: a strict dotted
  // quad (no leading zeros, no other base), and IPv6 without a zone
  // (`fe80::1%eth0` names an interface of the publisher's host).
  const v4 = parseIPv4(address);
  if (v4 !== -1) {
    if (suffix === undefined && limits.requirePrefix === true) throw noPrefix();
    const bits = suffix === undefined ? 32 : Number(suffix);
    if (bits > 32) throw malformed('has an IPv4 prefix longer than 32');
    if (bits < limits.ipv4)
      throw tooWide(source, entry, `/${limits.ipv4} for IPv4`, `ipv4: ${bits}`);
    const parts = [v4 >>> 24, (v4 >>> 16) & 0xff, (v4 >>> 8) & 0xff, v4 & 0xff];
    return [{ v6: false, parts: networkOf({ v6: false, parts }, bits) }, bits];
  }
  // An embedded dotted quad (`::1.2.3.4`) must be strict decimal as well
  // (ipaddr.js would read `010.000.0.1` and `0x7f.0.0.1` in other bases).
  const colon = address.lastIndexOf(':');
  if (colon !== -1 && address.includes('.') && parseIPv4(address.slice(colon + 1)) === -1) {
    throw malformed('has an embedded IPv4 address that is not four decimal numbers');
  }
  const parsed = parseIPv6(address);
  if (parsed === undefined) throw malformed('is not an IP address or CIDR range');
  if (suffix === undefined && limits.requirePrefix === true) throw noPrefix();
  const bits = suffix === undefined ? 128 : Number(suffix);
  if (bits > 128) throw malformed('has an IPv6 prefix longer than 128');
  // An IPv4-mapped range (`::ffff:0.0.0.0/96`) is an IPv4 range in
  // disguise: the core matches it against IPv4 peers, so `/96` would trust
  // every IPv4 address. A CDN publishes IPv4 ranges as IPv4.
  if (parsed.isIPv4MappedAddress()) {
    throw malformed('is an IPv4-mapped IPv6 range (write IPv4 ranges as IPv4)');
  }
  if (bits < limits.ipv6) throw tooWide(source, entry, `/${limits.ipv6} for IPv6`, `ipv6: ${bits}`);
  return [{ v6: true, parts: networkOf({ v6: true, parts: parsed.parts }, bits) }, bits];
}

function tooWide(source: string, entry: string, limit: string, allow: string): RangeLoadError {
  return new RangeLoadError(
    'WAITRESS_PROXY_RANGES_REFUSED',
    `${source}: ${excerpt(entry)} is wider than ${limit}; the whole list is refused ` +
      `(if the provider really publishes it, allow it with widestPrefix: { ${allow} }).`,
  );
}
