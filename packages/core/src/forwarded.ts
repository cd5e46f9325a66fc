/**
 * RFC 7239 `Forwarded`, read as waitress's `proxy_headers.py` reads it:
 * elements separated by commas, pairs by semicolons, each pair `token=value`
 * with no whitespace around either side, values unquoted, the whole pair
 * lower-cased, unknown parameters warned about and ignored.
 *
 * Beyond waitress: only the trusted window is parsed (the client's own
 * elements are never read), empty elements are skipped, and a parameter that
 * appears twice in one element is malformed (RFC 7239 section 4: "each
 * parameter MUST NOT occur more than once per forwarded-element").
 */
import { MalformedProxyHeaderError } from './errors.js';
import { ListReader } from './list.js';
import { INVALID_NODE, parseNode } from './node.js';
import type { ForwardedNode } from './node.js';
import type { ProxyLogger } from './options.js';
import { unquote } from './quoted-string.js';
import type { TrustMatcher } from './trust.js';
import { INVALID_QUOTING } from './x-forwarded.js';

/** One forwarded-element: what one proxy said about the request it received. */
export interface ForwardedElement {
  /** `for=`: who sent the request to that proxy. */
  readonly for: ForwardedNode | undefined;
  /** `host=`: the Host that proxy received (unquoted, not yet validated), or `''`. */
  readonly host: string;
  /** `proto=`: the scheme that proxy received (lower case), or `''`. */
  readonly proto: string;
  /** The first parameter name the element has that RFC 7239 does not define, if any. */
  readonly unknownToken: string | undefined;
  /** How many such parameters the element has. */
  readonly unknownTokens: number;
}

/** The trusted part of `Forwarded`. */
export interface ForwardedWindow {
  /** The elements inside the window, oldest first. */
  readonly elements: ForwardedElement[];
  /** Where the window starts in the header value. */
  readonly start: number;
}

const HEADER = 'Forwarded';

/**
 * Reads the trusted window of `Forwarded` (`count` elements). With `hopTrust`
 * (the `requireTrustedHops` option), the walk from the newest element stops
 * at the first whose `for` is not a trusted proxy.
 */
export function readForwarded(
  value: string,
  count: number,
  hopTrust: TrustMatcher | undefined,
  logger: ProxyLogger,
): ForwardedWindow | MalformedProxyHeaderError {
  const reader = new ListReader(value);
  const elements: ForwardedElement[] = [];
  let unknownToken: string | undefined;
  let unknownTokens = 0;
  for (let read = 0; read < count && reader.previous(); read++) {
    const element = parseElement(reader.text, value);
    if (element instanceof MalformedProxyHeaderError) return element;
    elements.push(element);
    if (element.unknownTokens > 0) {
      unknownToken ??= element.unknownToken;
      unknownTokens += element.unknownTokens;
    }
    if (hopTrust !== undefined && (element.for === undefined || !hopTrust(element.for.address))) {
      break;
    }
  }
  // One line per request however many unknown parameters the window holds:
  // a header of 16 KiB can carry thousands.
  if (unknownToken !== undefined) logger.warn(unknownTokensWarning(unknownToken, unknownTokens));
  if (elements.length > 1) elements.reverse();
  return { elements, start: reader.start };
}

/** waitress's "Unknown Forwarded token" line, bounded in length and count. */
function unknownTokensWarning(first: string, count: number): string {
  const token = first.length > 64 ? `${first.slice(0, 64)}...` : first;
  const more = count > 1 ? ` (and ${count - 1} more unknown parameters, all ignored)` : '';
  return `waitress-proxy: Unknown Forwarded token: ${token}${more}`;
}

function parseElement(text: string, header: string): ForwardedElement | MalformedProxyHeaderError {
  let forNode: ForwardedNode | undefined;
  let unknownToken: string | undefined;
  let unknownTokens = 0;
  let host: string | undefined;
  let proto: string | undefined;
  let by: string | undefined;
  let pairStart = 0;
  while (pairStart <= text.length) {
    let pairEnd = text.indexOf(';', pairStart);
    if (pairEnd === -1) pairEnd = text.length;
    const pair = text.slice(pairStart, pairEnd).toLowerCase();
    pairStart = pairEnd + 1;
    if (pair === '') continue;

    const equals = pair.indexOf('=');
    if (equals === -1) return malformed('Invalid forwarded-pair missing "="', header);
    const token = pair.slice(0, equals);
    const quoted = pair.slice(equals + 1);
    if (token.trim() !== token) {
      return malformed('Token may not be surrounded by whitespace', header);
    }
    if (quoted.trim() !== quoted) {
      return malformed('Value may not be surrounded by whitespace', header);
    }
    const parameter = unquote(quoted);
    if (parameter === undefined) return malformed(INVALID_QUOTING, header);

    switch (token) {
      case 'for':
        if (forNode !== undefined) return repeated(token, header);
        forNode = parseNode(parameter);
        if (forNode === undefined) return malformed(`for: ${INVALID_NODE}`, header);
        break;
      case 'host':
        if (host !== undefined) return repeated(token, header);
        host = parameter;
        break;
      case 'proto':
        if (proto !== undefined) return repeated(token, header);
        proto = parameter;
        break;
      case 'by':
        // Parsed for its syntax only: waitress does not use `by` either.
        if (by !== undefined) return repeated(token, header);
        by = parameter;
        break;
      default:
        unknownToken ??= token;
        unknownTokens++;
    }
  }
  return { for: forNode, host: host ?? '', proto: proto ?? '', unknownToken, unknownTokens };
}

function repeated(token: string, header: string): MalformedProxyHeaderError {
  return malformed(`parameter "${token}" occurs more than once in one element`, header);
}

function malformed(reason: string, value: string): MalformedProxyHeaderError {
  return new MalformedProxyHeaderError(HEADER, reason, value);
}
