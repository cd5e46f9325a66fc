/**
 * The engine's input read off a Node request (`http`, `https`, or the
 * `http2` compatibility API), so every adapter reads the socket the same way.
 */
import type { RequestHeaders, RequestInput } from './resolve.js';

/**
 * Where a PROXY protocol reader (`@waitress-proxy/proxy-protocol`) leaves,
 * on the connection's socket, the client address the load balancer's PROXY
 * header gave. `requestInput` takes it as the peer, as nginx's
 * `real_ip_header proxy_protocol` does; the load balancer's own address stays
 * in `socket.remoteAddress`. A `Symbol.for` key, so every copy of the
 * packages agrees on it.
 */
export const PROXY_PROTOCOL_PEER: unique symbol = Symbol.for('@waitress-proxy/proxy-protocol:peer');

/** What a PROXY header said about the connection. */
export interface ProxyProtocolPeer {
  /** The source address (IPv6 without brackets); undefined for a Unix-socket source. */
  readonly address: string | undefined;
  /** The source port; undefined for a Unix-socket source. */
  readonly port: number | undefined;
}

/** The part of `http.IncomingMessage` (or `Http2ServerRequest`) the engine reads. */
export interface IncomingRequest {
  /** The connection (`req.socket`). */
  readonly socket: {
    /** The peer's address; undefined on a Unix socket (the peer is then `localhost`). */
    readonly remoteAddress?: string | undefined;
    /** The peer's port. */
    readonly remotePort?: number | undefined;
    /** The port the app listens on. */
    readonly localPort?: number | undefined;
    /** Set on TLS sockets (`tls.TLSSocket`). */
    readonly encrypted?: boolean | undefined;
    /** The server that accepted the connection (Node's `net` sets it): its `maxHeadersCount`. */
    readonly server?:
      | {
          /** Node keeps at most this many header lines (1,000 when not a number; none when 0). */
          readonly maxHeadersCount?: number | null | undefined;
        }
      | null
      | undefined;
    /** Set by a PROXY protocol reader: the peer its header gave. */
    readonly [PROXY_PROTOCOL_PEER]?: ProxyProtocolPeer | undefined;
  };
  /** `req.headers`. */
  readonly headers: RequestHeaders;
  /** `req.url`: the request target as received. */
  readonly url?: string | undefined;
  /** The header lines as received, name, value, name, value... */
  readonly rawHeaders?: readonly string[] | undefined;
  /** 1 for HTTP/1.x, 2 for the `http2` compatibility API. */
  readonly httpVersionMajor?: number | undefined;
}

/**
 * Node's cap when `server.maxHeadersCount` is not a number: its parser keeps
 * 2,000 entries of the flat name/value list (`MAX_HEADER_PAIRS` in
 * lib/_http_common.js), that is 1,000 header lines, whatever the docs' "2000"
 * suggests. A number N sets the cap to N lines; 0 (or less) lifts it.
 */
const NODE_DEFAULT_RAW_ENTRIES = 2000;

/**
 * The `resolve` input for a Node request. `url` defaults to `req.url`; pass
 * the URL as received when a framework has rewritten `req.url` already
 * (Fastify's `rewriteUrl`).
 */
export function requestInput(req: IncomingRequest, url: string = req.url ?? '/'): RequestInput {
  const socket = req.socket;
  // A PROXY protocol reader's peer stands in for the socket's, whole: its
  // port belongs to its address.
  const proxied = socket[PROXY_PROTOCOL_PEER];
  return {
    peerAddress: proxied === undefined ? socket.remoteAddress : proxied.address,
    peerPort: proxied === undefined ? socket.remotePort : proxied.port,
    localPort: socket.localPort,
    encrypted: socket.encrypted === true,
    headers: req.headers,
    url,
    headersTruncated: headersTruncated(req),
  };
}

/**
 * Whether Node may have dropped header lines: it keeps the first
 * `maxHeadersCount` and drops the rest silently, from `headers` and (past a
 * flush boundary) from `rawHeaders` too, so a request that reached the cap is
 * taken as cut. HTTP/2 has no such silent cut: nghttp2 resets a stream over
 * `maxHeaderListPairs` before any handler runs.
 */
function headersTruncated(req: IncomingRequest): boolean {
  const raw = req.rawHeaders;
  if (raw === undefined || req.httpVersionMajor === 2) return false;
  const configured = req.socket.server?.maxHeadersCount;
  // Node's own arithmetic (lib/_http_server.js): the parser's limit is the
  // count shifted left by one, and no limit when that is not positive.
  const limit = typeof configured === 'number' ? configured << 1 : NODE_DEFAULT_RAW_ENTRIES;
  return limit > 0 && raw.length >= limit;
}
