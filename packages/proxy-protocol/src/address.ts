/**
 * Addresses as the PROXY protocol writes them: v1's text, strictly
 * (proxy-protocol.txt section 2.1: IPv4 as exactly four decimal numbers
 * 0-255 "without heading zeroes", IPv6 as hex groups with at most one `::`
 * and exactly 128 bits), and v2's bytes. Both end in the one spelling Node
 * reports peers in, so `trustedProxy` and the app's view see the same text
 * a direct connection would give: dotted IPv4, and RFC 5952 IPv6 (lower
 * case, no leading zeros, the longest run of two or more zero groups
 * compressed). An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) becomes its
 * IPv4 address, as the engine unwraps it anyway.
 */
import { parseIPv4 } from '@waitress-proxy/core/internal';

/**
 * The eight 16-bit groups of a textual IPv6 address, or undefined: groups
 * of one to four hex digits (either case), at most one `::`, exactly 128
 * bits, optionally ending in a dotted IPv4 part (what `inet_ntop` writes
 * for `::ffff:a.b.c.d`, which HAProxy sends). No zone (`%eth0`), no
 * brackets, no spaces.
 */
export function parseIPv6Text(text: string): number[] | undefined {
  if (text.length < 2 || text.length > 45) return undefined;
  const head: number[] = [];
  const tail: number[] = [];
  let groups = head;
  let compressed = false;
  let i = 0;
  if (text.startsWith('::')) {
    compressed = true;
    groups = tail;
    i = 2;
    if (i === text.length) return [0, 0, 0, 0, 0, 0, 0, 0];
  }
  for (;;) {
    // One group, or a dotted IPv4 tail that fills the last two.
    let value = 0;
    let digits = 0;
    const start = i;
    while (i < text.length && digits < 5) {
      const hex = hexValue(text.charCodeAt(i));
      if (hex === -1) break;
      value = value * 16 + hex;
      digits++;
      i++;
    }
    if (i < text.length && text.charCodeAt(i) === 0x2e /* . */) {
      const v4 = parseIPv4(text.slice(start));
      if (v4 === -1) return undefined;
      groups.push(v4 >>> 16, v4 & 0xffff);
      break;
    }
    if (digits === 0 || digits > 4) return undefined;
    groups.push(value);
    if (i === text.length) break;
    if (text.charCodeAt(i) !== 0x3a /* : */) return undefined;
    i++;
    if (i < text.length && text.charCodeAt(i) === 0x3a) {
      if (compressed) return undefined; // a second `::`
      compressed = true;
      groups = tail;
      i++;
      if (i === text.length) break;
    } else if (i === text.length) {
      return undefined; // a single trailing colon
    }
  }
  const count = head.length + tail.length;
  if (compressed ? count > 7 : count !== 8) return undefined;
  const zeros: number[] = new Array<number>(8 - count).fill(0);
  return [...head, ...zeros, ...tail];
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x66) return code - 0x61 + 10;
  if (code >= 0x41 && code <= 0x46) return code - 0x41 + 10;
  return -1;
}

/** Dotted text of four bytes at `offset`. */
export function formatIPv4Bytes(bytes: Uint8Array, offset: number): string {
  return `${bytes[offset] ?? 0}.${bytes[offset + 1] ?? 0}.${bytes[offset + 2] ?? 0}.${bytes[offset + 3] ?? 0}`;
}

/** The groups of sixteen bytes at `offset`. */
export function ipv6Groups(bytes: Uint8Array, offset: number): number[] {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) {
    groups.push(((bytes[offset + i] ?? 0) << 8) | (bytes[offset + i + 1] ?? 0));
  }
  return groups;
}

/**
 * RFC 5952 text for eight groups (section 4: lower case, no leading zeros,
 * the longest run of at least two zero groups compressed, the first of equal
 * runs), or the IPv4 address for an IPv4-mapped one (`::ffff:0:0/96`).
 */
export function formatIPv6Groups(groups: readonly number[]): string {
  const g = (index: number): number => groups[index] ?? 0;
  if (g(0) === 0 && g(1) === 0 && g(2) === 0 && g(3) === 0 && g(4) === 0 && g(5) === 0xffff) {
    return `${g(6) >> 8}.${g(6) & 0xff}.${g(7) >> 8}.${g(7) & 0xff}`;
  }
  let bestStart = -1;
  let bestLength = 1; // a single zero group is not compressed (RFC 5952 4.2.2)
  for (let i = 0; i < 8;) {
    if (g(i) !== 0) {
      i++;
      continue;
    }
    let end = i;
    while (end < 8 && g(end) === 0) end++;
    if (end - i > bestLength) {
      bestStart = i;
      bestLength = end - i;
    }
    i = end;
  }
  const hex = (from: number, to: number): string[] => {
    const out: string[] = [];
    for (let i = from; i < to; i++) out.push(g(i).toString(16));
    return out;
  };
  if (bestStart === -1) return hex(0, 8).join(':');
  return `${hex(0, bestStart).join(':')}::${hex(bestStart + bestLength, 8).join(':')}`;
}
