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
 * each `ctx.request` with `Object.create(app.request)`, so one accessor per
 * name on `app.request` covers every request of that app: it is installed
 * once, on the app's first request, and per request the middleware only
 * stores the view under a symbol. A request that has no view (one that did
 * not pass the middleware) gets Koa's own getter, unchanged.
 *
 * `ip` is not here: Koa has a setter for it (a memo slot that its getter
 * reads first), which the middleware uses.
 */
import { originForm } from '@waitress-proxy/core';
import type { ProxyView } from '@waitress-proxy/core';

// Symbol.for, so that the ESM and CommonJS builds loaded side by side (the
// dual-package hazard) share one slot and one installation.
const VIEW = Symbol.for('@waitress-proxy/koa:view');
const INSTALLED = Symbol.for('@waitress-proxy/koa:installed');
/** Where a patched `app.request` keeps Koa's own getter of each name. */
const FALLBACKS = Symbol.for('@waitress-proxy/koa:fallbacks');

type Name = 'protocol' | 'host' | 'hostname' | 'ips' | 'href' | 'URL';
type Fallbacks = Readonly<Record<Name, ((this: unknown) => unknown) | undefined>>;

interface ViewHolder {
  [VIEW]?: ProxyView;
  /** Koa's own fields, read by `href` and `URL`. */
  originalUrl?: string;
  memoizedURL?: unknown;
  [INSTALLED]?: true;
  [FALLBACKS]?: Fallbacks;
}

function fallback(request: ViewHolder, name: Name): unknown {
  return request[FALLBACKS]?.[name]?.call(request);
}

/**
 * Koa's getters that read proxy headers or an absolute-form target, and what
 * each returns instead: one plain function per name (closures made in a loop
 * would share one call site for all of them), each reading the view in a line
 * V8 can inline. Koa returns `''` for a missing host, and a new `ips` array
 * on every read.
 */
const GETTERS: Readonly<Record<Name, (this: ViewHolder) => unknown>> = {
  protocol() {
    const view = this[VIEW];
    return view === undefined ? fallback(this, 'protocol') : view.scheme;
  },
  host() {
    const view = this[VIEW];
    return view === undefined ? fallback(this, 'host') : (view.host ?? '');
  },
  hostname() {
    const view = this[VIEW];
    return view === undefined ? fallback(this, 'hostname') : (view.hostname ?? '');
  },
  ips() {
    const view = this[VIEW];
    return view === undefined ? fallback(this, 'ips') : view.ips.slice();
  },
  href() {
    const view = this[VIEW];
    return view === undefined ? fallback(this, 'href') : hrefOf(view, this.originalUrl);
  },
  // Memoized where Koa memoizes it (the middleware clears an earlier memo).
  URL() {
    const view = this[VIEW];
    if (view === undefined) return fallback(this, 'URL');
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
};

/**
 * Koa's `href` (`protocol://host` + `originalUrl`, `''` for a missing host),
 * from the view and the target's path and query.
 */
function hrefOf(view: ProxyView, originalUrl = ''): string {
  return `${view.scheme}://${view.host ?? ''}${originForm(originalUrl)}`;
}

function forwarded(this: ViewHolder): ProxyView | undefined {
  return this[VIEW];
}

/**
 * Stores `view` on one Koa request so that its proxy-dependent getters
 * return the view's values; installs the getters on the request's prototype
 * (the app's `app.request`) the first time an app's request comes by.
 */
export function setRequestView(request: object, view: ProxyView): void {
  const holder = request as ViewHolder;
  if (holder[INSTALLED] !== true) installGetters(Object.getPrototypeOf(request) as object);
  holder[VIEW] = view;
}

function installGetters(proto: object): void {
  const fallbacks = {} as Record<Name, ((this: unknown) => unknown) | undefined>;
  for (const name of Object.keys(GETTERS) as Name[]) {
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called with the request as `this`
    fallbacks[name] = findDescriptor(proto, name)?.get;
    Object.defineProperty(proto, name, {
      configurable: true,
      enumerable: true,
      get: GETTERS[name],
    });
  }
  Object.defineProperty(proto, 'forwarded', {
    configurable: true,
    enumerable: true,
    get: forwarded,
  });
  Object.defineProperty(proto, FALLBACKS, { value: Object.freeze(fallbacks) });
  Object.defineProperty(proto, INSTALLED, { value: true });
}

/** The property `name` resolves to on `proto`'s chain (Koa's getter, or one the app put there). */
function findDescriptor(proto: object | null, name: string): PropertyDescriptor | undefined {
  for (
    let object = proto;
    object !== null;
    object = Object.getPrototypeOf(object) as object | null
  ) {
    const descriptor = Object.getOwnPropertyDescriptor(object, name);
    if (descriptor !== undefined) return descriptor;
  }
  return undefined;
}
