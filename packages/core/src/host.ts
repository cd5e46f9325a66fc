/**
 * The `host` of `X-Forwarded-Host` and of `Forwarded: host=`: RFC 7230
 * section 5.4 `Host = uri-host [ ":" port ]`.
 *
 * waitress passes any text on as HTTP_HOST and SERVER_NAME. Because a
 * forwarded host ends up in URLs the app builds (redirects, links, password
 * reset mails), we refuse anything that is not a plain host: a name of
 * letters, digits, `-`, `.`, `_` and `~`, an IPv4 address, or a bracketed
 * IPv6 address without zone; with an optional port 1-65535. `evil.com/x`,
 * `user@evil.com`, `a b`, `host:1:2`, `[::1` and `example.com:0` are all
 * malformed.
 */
import { isIPv6, portNumber } from './address.js';
import { keepLast } from './keep-last.js';

/** A parsed host. */
export interface ParsedHost {
  /** The name or address, IPv6 in brackets (waitress's SERVER_NAME). */
  readonly hostname: string;
  /** The port, if one was written. */
  readonly port: number | undefined;
}

/** Why a host was refused, for the malformed-header log line. */
export const INVALID_HOST = 'not a host name or address with an optional port 1-65535';

/**
 * Parses a forwarded host, or returns undefined when it is not a valid one.
 * Keeps its last answer: an app is reached under a few host names, so the
 * same one comes again and again, and one comparison costs less than the
 * character checks (the answer is a frozen object, safe to share).
 */
export const parseHost: (text: string) => ParsedHost | undefined = keepLast(parseHostOnce);

function parseHostOnce(text: string): ParsedHost | undefined {
  let end: number;
  if (text.charCodeAt(0) === 0x5b /* [ */) {
    const close = text.indexOf(']');
    if (close === -1 || !isIPv6(text.slice(1, close))) return undefined;
    end = close + 1;
  } else {
    end = text.indexOf(':');
    if (end === -1) end = text.length;
    if (end === 0) return undefined;
    for (let i = 0; i < end; i++) {
      if (!isNameChar(text.charCodeAt(i))) return undefined;
    }
  }
  if (end === text.length) return Object.freeze({ hostname: text, port: undefined });
  if (text.charCodeAt(end) !== 0x3a /* : */) return undefined;
  const port = portNumber(text, end + 1);
  if (port === -1) return undefined;
  return Object.freeze({ hostname: text.slice(0, end), port });
}

/** RFC 3986 `unreserved`: ALPHA / DIGIT / "-" / "." / "_" / "~", by char code. */
const NAME_CHARS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const unreserved =
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2d ||
    c === 0x2e ||
    c === 0x5f ||
    c === 0x7e;
  NAME_CHARS[c] = unreserved ? 1 : 0;
}

function isNameChar(c: number): boolean {
  return c < 128 && NAME_CHARS[c] === 1;
}

/**
 * The host name of a Host header sent directly by the client, read the way
 * the frameworks read it: everything before the port, IPv6 kept in
 * brackets. Lenient on purpose: the Host of a direct connection is not a
 * proxy header, and refusing it is the HTTP server's business, not ours.
 */
export function hostnameOf(host: string | undefined): string | undefined {
  if (host === undefined || host === '') return undefined;
  return hostnameKept(host);
}

/** The last answer kept, as for `parseHost`. */
const hostnameKept = keepLast(hostnameOnce);

function hostnameOnce(host: string): string {
  const start = host.charCodeAt(0) === 0x5b /* [ */ ? host.indexOf(']') + 1 : 0;
  const colon = host.indexOf(':', start);
  return colon === -1 ? host : host.slice(0, colon);
}
