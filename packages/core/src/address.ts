/**
 * IP address syntax, without regular expressions on header input.
 *
 * IPv4 is accepted only in the four-part decimal form (`192.0.2.1`), with no
 * leading zeros: `010.0.0.1`, `127.1` and `0x7f.0.0.1` are refused, because
 * resolvers disagree on what they mean (octal, short forms, hex) and a proxy
 * never writes them. IPv6 goes to ipaddr.js, after cheap checks that bound
 * its work and refuse zone identifiers (`fe80::1%eth0`), which name an
 * interface of the sender's host and mean nothing here.
 */
import ipaddr from 'ipaddr.js';
import { keepLast } from './keep-last.js';

/** The longest textual IPv6 address (`ffff:...:255.255.255.255`). */
const MAX_IPV6_LENGTH = 45;

/**
 * Parses a four-part decimal IPv4 address into an unsigned 32-bit number, or
 * returns -1 when `text` is not one.
 */
export function parseIPv4(text: string): number {
  const length = text.length;
  if (length < 7 || length > 15) return -1;
  let result = 0;
  let part = -1; // -1: no digit yet in this part
  let dots = 0;
  for (let i = 0; i < length; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit >= 0 && digit <= 9) {
      // A leading zero is refused: `010` is octal to some resolvers.
      if (part === 0) return -1;
      part = part === -1 ? digit : part * 10 + digit;
      if (part > 255) return -1;
    } else if (digit === -2 /* . */ && part !== -1 && dots !== 3) {
      result = result * 256 + part;
      part = -1;
      dots++;
    } else {
      return -1;
    }
  }
  if (part === -1 || dots !== 3) return -1;
  return result * 256 + part;
}

/** True for a four-part decimal IPv4 address. */
export function isIPv4(text: string): boolean {
  return parseIPv4(text) !== -1;
}

/**
 * True for a textual IPv6 address without brackets and without a zone. An
 * embedded IPv4 part (`::ffff:192.0.2.1`) must be four-part decimal too:
 * ipaddr.js also accepts `::ffff:0x7f.0.0.1` and `::ffff:010.0.0.1`.
 */
export function isIPv6(text: string): boolean {
  const hex = hexForm(text);
  return hex !== undefined && ipaddr.IPv6.isValid(hex);
}

/**
 * Parses an IPv6 address, or returns undefined. Same acceptance as `isIPv6`.
 */
export function parseIPv6(text: string): ipaddr.IPv6 | undefined {
  const hex = hexForm(text);
  return hex !== undefined && ipaddr.IPv6.isValid(hex) ? ipaddr.IPv6.parse(hex) : undefined;
}

/**
 * The address with an embedded IPv4 part written as two hex groups
 * (`::1.2.3.4` → `::102:304`), or undefined when it cannot be an IPv6
 * address. ipaddr.js 2.5.0 parses every dotted tail as IPv4-mapped, so
 * `::192.0.2.1` (a different address) would pass for `192.0.2.1`; converting
 * first leaves no dotted form for it to misread.
 */
function hexForm(text: string): string | undefined {
  if (text.length < 2 || text.length > MAX_IPV6_LENGTH) return undefined;
  if (text.indexOf(':') === -1 || text.indexOf('%') !== -1) return undefined;
  if (text.indexOf('.') === -1) return text;
  const colon = text.lastIndexOf(':');
  const v4 = parseIPv4(text.slice(colon + 1));
  if (v4 === -1) return undefined;
  return `${text.slice(0, colon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
}

const MAPPED_PREFIX = '::ffff:';

/**
 * The address as an application wants to see it: an IPv4-mapped IPv6 address
 * (`::ffff:10.0.0.5`, what Node reports for IPv4 peers of a server listening
 * on `::`) becomes its IPv4 address; anything else is returned unchanged.
 * Proxies may spell the mapped form otherwise (`::FFFF:10.0.0.5`,
 * `0:0:0:0:0:ffff:10.0.0.5`, `::ffff:a00:5`); those are unwrapped too, so an
 * app comparing the client to an IPv4 list is not bypassed by the spelling.
 */
/**
 * The peer's address as the engine compares it: a zone dropped (Node reports
 * a link-local IPv6 peer as `fe80::1%eth0`; the zone names the local
 * interface, not the peer, RFC 4007 section 11), then IPv4-mapped IPv6
 * unwrapped. Only the peer, from the kernel: a zone in a forwarded address
 * stays refused (D3).
 */
export const peerAddressOf: (address: string) => string = keepLast((address) => {
  // Kept per last peer (keepLast): behind a proxy nearly every request comes
  // from the same one, and one comparison costs less than the scans here.
  const zone = address.indexOf('%');
  return unmapIPv4(zone === -1 ? address : address.slice(0, zone));
});

export function unmapIPv4(address: string): string {
  if (address.length > MAPPED_PREFIX.length && address.startsWith(MAPPED_PREFIX)) {
    const rest = address.slice(MAPPED_PREFIX.length);
    if (isIPv4(rest)) return rest;
  }
  // Every spelling of a mapped address holds "ffff"; only those are parsed.
  if (
    address.length <= MAX_IPV6_LENGTH &&
    address.indexOf(':') !== -1 &&
    address.toLowerCase().includes('ffff')
  ) {
    const v6 = parseIPv6(address);
    if (v6?.isIPv4MappedAddress() === true) return v6.toIPv4Address().toString();
  }
  return address;
}

/**
 * One spelling for each IPv6 address a proxy forwards: an IPv4-mapped
 * address becomes its IPv4 address, any other the RFC 5952 form (lower case,
 * longest run of zeros compressed), the form Node reports peers in. An app
 * that compares the client to a list is then not bypassed by
 * `2001:DB8:0:0::1` standing for `2001:db8::1`. `text` must satisfy `isIPv6`.
 */
export function canonicalIPv6(text: string): string {
  const v6 = parseIPv6(text);
  if (v6 === undefined) return text;
  return v6.isIPv4MappedAddress() ? v6.toIPv4Address().toString() : v6.toString();
}

/**
 * True for a valid port: decimal 1-65535, with no sign, no leading zero and
 * no exponent (`08080`, `-1` and `1e3` are refused).
 */
export function isPort(text: string): boolean {
  return portNumber(text, 0) !== -1;
}

/**
 * The port written from `start` to the end of `text`, or -1 when that is not
 * a valid port (see `isPort`). Reads the digits in place: no substring, and
 * no string-to-number conversion, which is slow on a fresh string.
 */
export function portNumber(text: string, start: number): number {
  const length = text.length - start;
  if (length <= 0 || length > 5) return -1;
  let value = 0;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    if (i === start && c === 0x30) return -1;
    value = value * 10 + (c - 0x30);
  }
  return value <= 65535 ? value : -1;
}

/**
 * RFC 7239 section 6.3 obfuscated identifier: `_` followed by ALPHA, DIGIT,
 * `.`, `_` or `-`. Also used for obfuscated ports (section 6.2, `obfport`).
 */
export function isObfuscatedIdentifier(text: string): boolean {
  if (text.length < 2 || text.charCodeAt(0) !== 0x5f /* _ */) return false;
  for (let i = 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const ok =
      (c >= 0x30 && c <= 0x39) ||
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x61 && c <= 0x7a) ||
      c === 0x2e ||
      c === 0x5f ||
      c === 0x2d;
    if (!ok) return false;
  }
  return true;
}
