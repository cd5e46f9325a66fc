/**
 * Makes Koa's request read the resolved view instead of the headers.
 *
 * Koa 2 and 3 compute `protocol`, `host`, `hostname` and `ips` in getters on
 * the request prototype, from the headers and `app.proxy`,
 * `app.proxyIpHeader` and `app.maxIpsCount`; `secure`, `origin` in Koa 2 and
 * `subdomains` are built from those four, and `ctx.*` delegates to
 * `ctx.request.*`. `href` and `URL` are built from them too, except for an
 * absolute-form target (`GET https://evil.example/x`, RFC 9112 3.2.2), which
 * Koa returns as it came: any client could choose the scheme and host an app
 * builds links from. So those two are replaced as well, built from the
 * view's scheme and host and the target's path and query. Koa makes
 * each `ctx.request` with `Object.create(app.request)`, and `app.request`
 * with `Object.create()` of Koa's own request object, which holds the
 * getters: one accessor per name there covers every request, installed once,
 * on the first request, and per request the middleware only stores the view
 * under a symbol. A request that has no view (one that did not pass the
 * middleware, or of an app without it) gets Koa's own getter, unchanged.
 * The installing, the fallback and the setter (an assignment gives that
 * request its own value) are `@waitress-proxy/core/internal`'s, shared with
 * the Express and Fastify adapters.
 *
 * `ip` is here too, although Koa has a setter for it (a memo its getter reads
 * first): setting that memo per request cost a property more on each request
 * than reading the view. Assigning `ctx.request.ip` still wins, as an own
 * value of that request.
 */
import { originForm } from '@waitress-proxy/core';
import type { ProxyView } from '@waitress-proxy/core';
import { requestGetters } from '@waitress-proxy/core/internal';

// Symbol.for, so that the ESM and CommonJS builds loaded side by side (the
// dual-package hazard) share one slot.
const VIEW = Symbol.for('@waitress-proxy/koa:view');

interface ViewHolder {
  [VIEW]?: ProxyView;
  /** Koa's own fields, read by `href` and `URL`. */
  originalUrl?: string;
  memoizedURL?: unknown;
}

/**
 * Koa's getters that read proxy headers or an absolute-form target, and what
 * each returns instead: one plain function per name, each reading the view in
 * a line V8 can inline. Koa returns `''` for a missing host, and a new `ips`
 * array on every read.
 */
const GETTERS = {
  ip(this: ViewHolder): unknown {
    const view = this[VIEW];
    return view === undefined ? KOA.fallback(this, 'ip') : view.clientAddress;
  },
  protocol(this: ViewHolder): unknown {
    const view = this[VIEW];
    return view === undefined ? KOA.fallback(this, 'protocol') : view.scheme;
  },
  host(this: ViewHolder): unknown {
    const view = this[VIEW];
    return view === undefined ? KOA.fallback(this, 'host') : (view.host ?? '');
  },
  hostname(this: ViewHolder): unknown {
    const view = this[VIEW];
    return view === undefined ? KOA.fallback(this, 'hostname') : (view.hostname ?? '');
  },
  ips(this: ViewHolder): unknown {
    const view = this[VIEW];
    return view === undefined ? KOA.fallback(this, 'ips') : view.ips.slice();
  },
  href(this: ViewHolder): unknown {
    const view = this[VIEW];
    return view === undefined ? KOA.fallback(this, 'href') : hrefOf(view, this.originalUrl);
  },
  // Memoized where Koa memoizes it (the middleware clears an earlier memo).
  URL(this: ViewHolder): unknown {
    const view = this[VIEW];
    if (view === undefined) return KOA.fallback(this, 'URL');
    if (this.memoizedURL == null) {
      try {
        // Without a host, `http:///evil.example/x` would parse with the
        // path's first segment as the host: Koa's empty URL instead.
        if (view.host === undefined || view.host === '') throw new TypeError('no host');
        this.memoizedURL = new URL(hrefOf(view, this.originalUrl));
      } catch {
        // Koa's answer for a URL it cannot parse.
        this.memoizedURL = Object.create(null) as unknown;
      }
    }
    return this.memoizedURL;
  },
  // Not Koa's: undefined unless the request passed the middleware.
  forwarded(this: ViewHolder): unknown {
    return this[VIEW];
  },
};

const KOA = requestGetters('@waitress-proxy/koa', GETTERS);

/**
 * Koa's `href` (`protocol://host` + `originalUrl`, `''` for a missing host),
 * from the view and the target's path and query.
 */
function hrefOf(view: ProxyView, originalUrl = ''): string {
  return `${view.scheme}://${view.host ?? ''}${originForm(originalUrl)}`;
}

/**
 * Stores `view` on one Koa request so that its proxy-dependent getters
 * return the view's values; installs the getters the first time a request
 * of a new prototype (an app's `app.request`) comes by.
 */
export function setRequestView(request: object, view: ProxyView): void {
  KOA.prepare(Object.getPrototypeOf(request) as object);
  (request as ViewHolder)[VIEW] = view;
}
