/**
 * The engine's input read off a Node request (`http`, `https`, or the
 * `http2` compatibility API), so every adapter reads the socket the same way.
 */
import type { RequestHeaders, RequestInput } from './resolve.js';

/** The part of `http.IncomingMessage` (or `Http2ServerRequest`) the engine reads. */
export interface IncomingRequest {
  readonly socket: {
    readonly remoteAddress?: string | undefined;
    readonly remotePort?: number | undefined;
    readonly localPort?: number | undefined;
    /** Set on TLS sockets (`tls.TLSSocket`). */
    readonly encrypted?: boolean | undefined;
  };
  readonly headers: RequestHeaders;
  readonly url?: string | undefined;
}

/**
 * The `resolve` input for a Node request. `url` defaults to `req.url`; pass
 * the URL as received when a framework has rewritten `req.url` already
 * (Fastify's `rewriteUrl`).
 */
export function requestInput(req: IncomingRequest, url: string = req.url ?? '/'): RequestInput {
  const socket = req.socket;
  return {
    peerAddress: socket.remoteAddress,
    peerPort: socket.remotePort,
    localPort: socket.localPort,
    encrypted: socket.encrypted === true,
    headers: req.headers,
    url,
  };
}
