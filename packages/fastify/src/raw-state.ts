/**
 * What the plugin keeps on the raw request (`request.raw`, Node's
 * IncomingMessage or Http2ServerRequest) from its `'request'` listener to the
 * getters and its `onRequest` hook. `Symbol.for` keys: the ESM and CommonJS
 * builds loaded side by side (the dual-package hazard) read each other's.
 */
import type { ProxyRequestError, ProxyView } from '@waitress-proxy/core';

/** The resolved view; its presence says the request was resolved. */
export const VIEW = Symbol.for('@waitress-proxy/fastify:view');
/** The error of a request that must not reach its handler (a malformed header). */
export const PROBLEM = Symbol.for('@waitress-proxy/fastify:problem');
/** What the core logged before Fastify made `request.log`, waiting for it. */
export const PENDING_LOG = Symbol.for('@waitress-proxy/fastify:pending-log');

/** One line the core logged: `warn`, or `debug` for `explain`. */
export interface PendingLine {
  readonly level: 'warn' | 'debug';
  readonly message: string;
}

/** The raw request, with the plugin's slots. */
export interface RawRequestState {
  [VIEW]?: ProxyView;
  [PROBLEM]?: ProxyRequestError;
  [PENDING_LOG]?: PendingLine[] | undefined;
}
