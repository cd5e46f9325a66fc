/**
 * A client or proxy address as proxies write it in `X-Forwarded-For` and in
 * the `for`/`by` parameters of `Forwarded` (RFC 7239 section 6: `node`).
 *
 * waitress splits a trailing `:port` off any value with a colon that does not
 * end in `]`, which misreads a bare IPv6 address (`2001:db8::1` in
 * Forwarded) or an IPv4-mapped one (`::ffff:192.0.2.1`) as address plus
 * port. We recognize a whole address first, and refuse what is not an
 * address (see docs/differences-from-waitress.md).
 */
import { canonicalIPv6, isIPv4, isIPv6, isObfuscatedIdentifier, isPort } from './address.js';

/** A parsed node: its address (IPv6 without brackets) and port, if a port was given. */
export interface ForwardedNode {
  /**
   * An IP address (IPv6 in RFC 5952 form, IPv4-mapped IPv6 as IPv4), `unknown`, or an
   * RFC 7239 obfuscated identifier (`_hidden`).
   */
  readonly address: string;
  /** The port, when the node gave a numeric one (an obfuscated port gives none). */
  readonly port: number | undefined;
}

/** Why a node was refused, for the malformed-header log line. */
export const INVALID_NODE =
  'not an IP address, "unknown" or an obfuscated identifier, with an optional port';

/** Parses a node (already unquoted), or returns undefined when it is not one. */
export function parseNode(text: string): ForwardedNode | undefined {
  if (text.length === 0) return undefined;
  if (text.charCodeAt(0) === 0x5b /* [ */) {
    const close = text.indexOf(']');
    if (close === -1) return undefined;
    const address = text.slice(1, close);
    if (!isIPv6(address)) return undefined;
    return withPort(canonicalIPv6(address), text, close + 1);
  }
  if (isIPv4(text)) return { address: text, port: undefined };
  if (isIPv6(text)) return { address: canonicalIPv6(text), port: undefined };
  const colon = text.lastIndexOf(':');
  const address = colon === -1 ? text : text.slice(0, colon);
  if (!isIPv4(address) && !isNamedNode(address)) return undefined;
  return colon === -1 ? { address, port: undefined } : withPort(address, text, colon);
}

/** `unknown` (RFC 7239 section 6.2) or an obfuscated identifier (section 6.3). */
function isNamedNode(text: string): boolean {
  return text.toLowerCase() === 'unknown' || isObfuscatedIdentifier(text);
}

/** Reads `:port` (or nothing) at `index` of `text`. */
function withPort(address: string, text: string, index: number): ForwardedNode | undefined {
  if (index === text.length) return { address, port: undefined };
  if (text.charCodeAt(index) !== 0x3a /* : */) return undefined;
  const port = text.slice(index + 1);
  if (isPort(port)) return { address, port: Number(port) };
  if (isObfuscatedIdentifier(port)) return { address, port: undefined };
  return undefined;
}
