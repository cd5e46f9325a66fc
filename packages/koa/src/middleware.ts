/**
 * The Koa middleware. It only translates: Koa's request into the core's
 * input, the core's view onto Koa's request, and the core's malformed-header
 * error into Koa's error path. Every rule lives in `@waitress-proxy/core`.
 */
import {
  applyHeaderChanges,
  compileOptions,
  requestInput,
  resolve,
  routeUrl,
  trustGate,
} from '@waitress-proxy/core';
import type { ProxyView, WaitressProxyOptions } from '@waitress-proxy/core';
import type { Middleware } from 'koa';
import { setRequestView } from './request-view.js';

declare module 'koa' {
  interface Request {
    /**
     * What the app should see behind its proxies, as `@waitress-proxy/core`
     * resolved it. Set on every request that passed the `waitressProxy`
     * middleware; undefined before it.
     */
    readonly forwarded?: ProxyView;
  }

  interface DefaultState {
    /** The same view as `ctx.request.forwarded`. */
    forwarded?: ProxyView;
  }
}

/** Koa's memo for `request.URL` (Koa 2 and 3 alike). */
interface MemoizedUrl {
  memoizedURL?: unknown;
}

/**
 * Returns the middleware; use it first: `app.use(waitressProxy(options))`.
 * The options are the core's, unchanged; they are validated and compiled
 * here, once, so a mistake throws a `WaitressProxyConfigError` at start-up,
 * and each request only resolves.
 *
 * In every later middleware, whatever `app.proxy`, `app.proxyIpHeader` and
 * `app.maxIpsCount` say:
 * - `ctx.ip`, `ctx.ips`: the client's address and the trusted chain, client
 *   first;
 * - `ctx.protocol`, `ctx.secure`: from the scheme;
 * - `ctx.host`, `ctx.hostname` (and so `ctx.subdomains`), and in Koa 2
 *   `ctx.origin` (Koa 3's `ctx.origin` is the `Origin` request header, which
 *   no proxy rewrites);
 * - `ctx.href`, `ctx.URL`: that scheme and host, then the path and query of
 *   `ctx.originalUrl`: an absolute-form target (`GET https://evil.example/x`),
 *   which Koa's own `href` returns as sent, names neither;
 * - `ctx.headers` and `ctx.req.rawHeaders`: `Host` set to the forwarded host,
 *   trusted proxy headers cut to the trusted window, untrusted ones removed;
 * - with `urlPrefix`: `ctx.path` and `ctx.url` (and so routing) without the
 *   prefix, `ctx.originalUrl` as received;
 * - `ctx.state.forwarded` and `ctx.request.forwarded`: the core's whole view.
 *
 * With a range source in `trustedProxy` (`@waitress-proxy/ranges`), requests
 * that arrive before its first load wait for it; if it failed, they throw a
 * `TrustedRangesUnavailableError` (`status` 503) through `ctx.throw`.
 *
 * A malformed proxy header from a trusted proxy is thrown through
 * `ctx.throw`: a `MalformedProxyHeaderError` with `status` 400, `expose`
 * true and a message naming the header, which upstream error-handling
 * middleware can catch and which Koa otherwise answers and emits as
 * `app.on('error')`.
 *
 * @example
 * app.use(waitressProxy({
 *   trustedProxy: '10.0.0.5',
 *   trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'],
 * }));
 */
export function waitressProxy(options?: WaitressProxyOptions): Middleware {
  const compiled = compileOptions(options);
  const gate = trustGate(compiled);

  const waitressProxyMiddleware: Middleware = function waitressProxyMiddleware(ctx, next): unknown {
    if (gate !== undefined && !gate.open && gate.failure === undefined) {
      // Before the range sources' first load: hold the request.
      return gate.settled.then((): unknown => waitressProxyMiddleware(ctx, next));
    }
    const { req, request } = ctx;
    const url = req.url ?? '/';
    const resolution = resolve(compiled, requestInput(req, url));
    // On a malformed header too: the view is then the direct connection's and
    // every proxy header is removed, so upstream error handlers and
    // app.on('error') see nothing forged, whatever app.proxy says.
    const view = resolution.view;
    applyHeaderChanges(req, resolution.headerChanges);

    setRequestView(request, view);
    ctx.state.forwarded = view;
    // `URL` is memoized on first read; one taken before this middleware
    // (by code that ran earlier) would keep the unresolved scheme and host.
    const memo = request as MemoizedUrl;
    if (memo.memoizedURL !== undefined) memo.memoizedURL = undefined;
    if (!resolution.ok) {
      // http-errors, behind ctx.throw, returns an Error argument as it is:
      // the app's handlers get the MalformedProxyHeaderError itself.
      return ctx.throw(resolution.error);
    }
    if (gate?.failure !== undefined) return ctx.throw(gate.failure);

    if (view.path !== url) {
      // The prefix was stripped (waitress's PATH_INFO). `ctx.originalUrl` was
      // taken from `req.url` when Koa made the context.
      req.url = routeUrl(compiled, url);
    }
    return next();
  };
  return waitressProxyMiddleware;
}
