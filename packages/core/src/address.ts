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
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e /* . */) {
      if (digits === 0 || dots === 3) return -1;
      result = result * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 0x30 && c <= 0x39) {
      // A leading zero is refused: `010` is octal to some resolvers.
      if (digits === 1 && part === 0) return -1;
      part = part * 10 + (c - 0x30);
      if (part > 255) return -1;
      digits++;
    } else {
      return -1;
    }
  }
  if (digits === 0 || dots !== 3) return -1;
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
  if (text.length < 2 || text.length > MAX_IPV6_LENGTH) return false;
  if (text.indexOf(':') === -1 || text.indexOf('%') !== -1) return false;
  if (text.indexOf('.') !== -1 && !isIPv4(text.slice(text.lastIndexOf(':') + 1))) return false;
  return ipaddr.IPv6.isValid(text);
}

/**
 * Parses an IPv6 address, or returns undefined. Same acceptance as `isIPv6`.
 */
export function parseIPv6(text: string): ipaddr.IPv6 | undefined {
  if (!isIPv6(text)) return undefined;
  return ipaddr.IPv6.parse(text);
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
export function unmapIPv4(address: string): string {
  if (address.length > MAPPED_PREFIX.length && address.startsWith(MAPPED_PREFIX)) {
    const rest = address.slice(MAPPED_PREFIX.length);
    if (isIPv4(rest)) return rest;
  }
  // Every spelling of a mapped address holds "ffff"; only those are parsed.
  if (address.length <= MAX_IPV6_LENGTH && address.toLowerCase().includes('ffff')) {
    const v6 = parseIPv6(address);
    if (v6?.isIPv4MappedAddress() === true) return v6.toIPv4Address().toString();
  }
  return address;
}

/**
 * True for a valid port: decimal 1-65535, with no sign, no leading zero and
 * no exponent (`08080`, `-1` and `1e3` are refused).
 */
export function isPort(text: string): boolean {
  const length = text.length;
  if (length === 0 || length > 5) return false;
  let value = 0;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
    if (i === 0 && c === 0x30) return false;
    value = value * 10 + (c - 0x30);
  }
  return value <= 65535;
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
