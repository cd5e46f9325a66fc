/**
 * The Express middleware. It only translates: Express's request into the
 * core's input, the core's view onto Express's request, and the core's
 * malformed-header error into `next(err)`. Every rule lives in
 * `@waitress-proxy/core`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  applyHeaderChanges,
  compileOptions,
  requestInput,
  resolve,
  routeUrl,
  trustGate,
} from '@waitress-proxy/core';
import type { ProxyView, WaitressProxyOptions } from '@waitress-proxy/core';
import { mountPrefix } from './base-url.js';
import type { RoutedRequest } from './base-url.js';
import { setRequestView } from './request-view.js';

declare global {
  // Express's own extension point: @types/express-serve-static-core (Express
  // 4 and 5) makes its Request extend `Express.Request`.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /**
       * What the app should see behind its proxies, as `@waitress-proxy/core`
       * resolved it. Set on every request that passed the `waitressProxy`
       * middleware; undefined before it.
       */
      forwarded?: ProxyView;
    }
  }
}

/**
 * A connect-style middleware. Typed structurally so it fits `app.use()`
 * with the types of Express 4 and 5 alike.
 */
export type WaitressProxyMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (err?: unknown) => void,
) => void;

/** The part of Express's request the middleware reads and writes. */
interface ExpressRequest extends IncomingMessage, RoutedRequest {
  forwarded?: ProxyView;
}

/**
 * Returns the middleware. The options are the core's, unchanged; they are
 * validated and compiled here, once, so a mistake throws a
 * `WaitressProxyConfigError` at start-up, and each request only resolves.
 *
 * After it, whatever Express's `trust proxy` setting is:
 * - `req.ip`, `req.ips`: the client's address and the trusted chain;
 * - `req.protocol`, `req.secure`: from the scheme;
 * - `req.hostname` (and so `req.subdomains`), and on Express 5 `req.host`
 *   (host with port); Express 4's `req.host` is its deprecated alias of
 *   `req.hostname` and follows it;
 * - `req.headers` and `req.rawHeaders`: `Host` set to the forwarded host,
 *   trusted proxy headers cut to the trusted window, untrusted ones removed;
 * - with `urlPrefix`: the router matches the path without the prefix,
 *   `req.baseUrl` starts with it, `req.originalUrl` is unchanged; a trusted
 *   `X-Forwarded-Prefix` (the prefix the proxy stripped) goes first in
 *   `req.baseUrl`;
 * - `req.forwarded`: the core's whole view.
 *
 * A malformed proxy header from a trusted proxy calls `next(err)` with a
 * `MalformedProxyHeaderError` (`status` 400, `expose` true, message naming
 * the header), so the app's error handler renders it. The handler sees the
 * direct connection's values and no proxy header at all, whatever
 * `trust proxy` says. The other refusals take the same path: a trusted
 * proxy's request over Node's header-line cap (`TooManyHeadersError`, 431),
 * a host not in `allowedHosts` (`HostNotAllowedError`, 400) and a request
 * target that is no path (`MalformedRequestTargetError`, 400).
 *
 * With a range source in `trustedProxy` (`@waitress-proxy/ranges`), requests
 * that arrive before its first load are held until it completes; if it
 * failed, they go to `next(err)` with a `TrustedRangesUnavailableError`
 * (`status` 503), after the usual rewrite with the fixed entries alone.
 *
 * @example
 * app.use(waitressProxy({
 *   trustedProxy: '10.0.0.5',
 *   trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'],
 * }));
 */
export function waitressProxy(options?: WaitressProxyOptions): WaitressProxyMiddleware {
  const compiled = compileOptions(options);
  const prefix = compiled.urlPrefix;
  const gate = trustGate(compiled);

  function waitressProxyMiddleware(
    request: IncomingMessage,
    res: ServerResponse,
    next: (err?: unknown) => void,
  ): void {
    if (gate !== undefined && !gate.open && gate.failure === undefined) {
      // Before the range sources' first load: hold the request.
      void gate.settled.then(() => {
        waitressProxyMiddleware(request, res, next);
      });
      return;
    }
    const req = request as ExpressRequest;
    const url = req.url ?? '/';
    const resolution = resolve(compiled, requestInput(req, url));
    // On a malformed header too: the view is then the direct connection's and
    // every proxy header is removed, so the error handler sees nothing forged.
    const view = resolution.view;
    applyHeaderChanges(req, resolution.headerChanges);

    // Express's ip, ips, protocol, secure, hostname and (Express 5) host,
    // and req.forwarded, read the view from here on, whatever `trust proxy`
    // says.
    setRequestView(req, view);
    if (!resolution.ok) {
      next(resolution.error);
      return;
    }
    if (gate?.failure !== undefined) {
      next(gate.failure);
      return;
    }

    const stripped = prefix !== '' && view.path !== url;
    if (stripped) req.url = routeUrl(compiled, url);
    // urlPrefix, or a trusted X-Forwarded-Prefix followed by it (urlPrefix
    // only when this middleware stripped it): the forwarded part goes before
    // a sub-app's mount path, urlPrefix after it.
    if (view.prefix !== '') {
      const inner = stripped || view.prefix === prefix ? prefix : '';
      mountPrefix(req, view.prefix.slice(0, view.prefix.length - inner.length), inner, next);
    }
    next();
  }
  return waitressProxyMiddleware;
}
