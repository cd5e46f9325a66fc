/**
 * The de-facto X-Forwarded-* headers, read as waitress's `proxy_headers.py`
 * reads them: each value unquoted (RFC 7230 quoted-string), the lists
 * `X-Forwarded-For` and `X-Forwarded-Host` cut to the trusted window with the
 * oldest entry inside it winning, and `X-Forwarded-Proto`/`X-Forwarded-Port`
 * single values.
 */
import { MalformedProxyHeaderError } from './errors.js';
import { ListReader } from './list.js';
import { isIPv4, isIPv6 } from './address.js';
import { INVALID_NODE, parseNode } from './node.js';
import type { ForwardedNode } from './node.js';
import { unquote } from './quoted-string.js';
import type { TrustMatcher } from './trust.js';

export const INVALID_QUOTING = 'Invalid quoting in value';

/** The trusted part of `X-Forwarded-For`. */
export interface ForwardedChain {
  /** The oldest hop inside the window: the client; undefined when the header has no entry. */
  readonly client: ForwardedNode | undefined;
  /** The addresses of the hops inside the window, oldest (the client) first. */
  readonly ips: string[];
  /** Where the window starts in the header value. */
  readonly start: number;
  /** Whether the window is the whole value as it came (nothing to cut or trim). */
  readonly whole: boolean;
}

/**
 * Reads the trusted window of `X-Forwarded-For`. With `hopTrust` (the
 * `requireTrustedHops` option), the walk from the newest entry stops at the
 * first address that is not a trusted proxy: that address is the client and
 * nothing older is read.
 */
export function readForwardedFor(
  value: string,
  count: number,
  hopTrust: TrustMatcher | undefined,
): ForwardedChain | MalformedProxyHeaderError {
  const reader = new ListReader(value);
  const ips: string[] = [];
  let client: ForwardedNode | undefined;
  for (let read = 0; read < count && reader.previous(); read++) {
    const text = unquote(reader.text);
    if (text === undefined) return malformed('X-Forwarded-For', INVALID_QUOTING, value);
    const node = parseNode(text);
    if (node === undefined) return malformed('X-Forwarded-For', INVALID_NODE, value);
    client = node;
    ips.push(node.address);
    if (hopTrust !== undefined && !hopTrust(node.address)) break;
  }
  if (ips.length > 1) ips.reverse();
  return { client, ips, start: reader.start, whole: isWhole(reader) };
}

/** The trusted part of `X-Forwarded-Host`: the oldest host inside the window. */
export interface ForwardedHostChain {
  /** The host the client asked for (unquoted, not yet validated). */
  readonly host: string;
  /** Where the window starts in the header value. */
  readonly start: number;
  /** Whether the window is the whole value as it came (nothing to cut or trim). */
  readonly whole: boolean;
}

/**
 * Reads the trusted window of `X-Forwarded-Host` (`count` entries), or
 * undefined when the header has no entry at all. Every entry inside the
 * window must be well quoted; the oldest is the host. `X-Forwarded-Prefix`
 * follows the same rule (`header` names it in errors).
 */
export function readForwardedHost(
  value: string,
  count: number,
  header = 'X-Forwarded-Host',
): ForwardedHostChain | MalformedProxyHeaderError | undefined {
  const reader = new ListReader(value);
  let host: string | undefined;
  for (let read = 0; read < count && reader.previous(); read++) {
    host = unquote(reader.text);
    if (host === undefined) return malformed(header, INVALID_QUOTING, value);
  }
  return host === undefined ? undefined : { host, start: reader.start, whole: isWhole(reader) };
}

/**
 * Whether the reader's window is its whole value, untrimmed: it starts at 0
 * and its oldest element (the last read, trimmed) is the value itself, as
 * for most headers, which hold one element. The header is then left as it is.
 */
function isWhole(reader: ListReader): boolean {
  return reader.start === 0 && reader.text === reader.value;
}

/**
 * Reads `X-Forwarded-Proto` or `X-Forwarded-Port`: one unquoted value. Several
 * values are malformed: waitress calls their meaning unspecified.
 */
export function readSingleValue(header: string, value: string): string | MalformedProxyHeaderError {
  const text = unquote(value);
  if (text === undefined) return malformed(header, INVALID_QUOTING, value);
  if (text.includes(',')) {
    return malformed(header, 'Unspecified behavior for multiple values found in header', value);
  }
  return text;
}

/** Why a single client-IP header was refused. */
export const INVALID_CLIENT_IP = 'not one IP address with an optional port';

/**
 * Reads a single client-IP header (`X-Real-IP`, `CF-Connecting-IP`,
 * `True-Client-IP`, `Fastly-Client-IP`): one IP address, with an optional
 * port, in the forms `X-Forwarded-For` entries take. The proxy sets it to the
 * address it saw, so several values (a list, or repeated lines, which Node
 * joins with a comma) mean something upstream passed a client's through:
 * malformed. `unknown` and obfuscated identifiers are not addresses a CDN
 * writes, and are refused too.
 */
export function readClientIp(
  header: string,
  value: string,
): ForwardedNode | MalformedProxyHeaderError {
  const text = readSingleValue(header, value);
  if (text instanceof MalformedProxyHeaderError) return text;
  const node = parseNode(text.trim());
  if (node === undefined || !(isIPv4(node.address) || isIPv6(node.address))) {
    return malformed(header, INVALID_CLIENT_IP, value);
  }
  return node;
}

function malformed(header: string, reason: string, value: string): MalformedProxyHeaderError {
  return new MalformedProxyHeaderError(header, reason, value);
}
