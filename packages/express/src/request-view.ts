/**
 * Makes Express's request properties (`ip`, `ips`, `protocol`, `secure`,
 * `hostname`, and on Express 5 `host`) read the view the middleware stored,
 * instead of the headers through `trust proxy`, and adds `req.forwarded`,
 * the view itself.
 *
 * Express defines them as configurable getters on its base request
 * prototype, from which every app's `app.request` inherits (a mounted
 * sub-app's through its parent's), and switches a request's prototype to
 * `app.request` of whichever app handles it at the moment. The first
 * request to pass the middleware installs one getter per name on the
 * object that holds Express's own (the base prototype), once; per request
 * the middleware only records the view. So the view follows the request
 * into and out of sub-apps, and each request costs no `defineProperty`.
 *
 * The view is kept in a WeakMap keyed by the request, not in a property of
 * the request: once Express has switched a request's prototype
 * (`Object.setPrototypeOf`), V8 gives every property added to it a new
 * hidden class, and each such addition cost about 1 µs. Measured in a
 * server, the two this file used to add (a symbol slot and `req.forwarded`)
 * cost +5.5 µs of CPU per request, a WeakMap entry +1.6 µs
 * (docs/performance.md). Reading the WeakMap is not free either, so the
 * last view stored is kept beside it too (`SharedState`).
 *
 * A request without a view (in an app without the middleware, or in a
 * route before it) gets what Express would have given. Assigning one of
 * these properties (`req.ip = ...`, as some middleware does) still works:
 * the setter gives that request an own value. The installing, the fallback
 * and the setter are `@waitress-proxy/core/internal`'s, shared with the
 * Fastify and Koa adapters; this file keeps Express's names and where its
 * views live.
 */
import type { ProxyView } from '@waitress-proxy/core';
import { requestGetters, sharedState } from '@waitress-proxy/core/internal';

/**
 * The views, and the last one stored with its request: a cache in front of
 * the WeakMap, which always holds every view. Getters are read mostly by
 * the request that last passed the middleware, and for it a comparison
 * replaces a WeakMap read; counted by callgrind in the end-to-end app, the
 * reads of `ip`, `protocol` and `hostname` cost about 7,000 instructions per
 * request through the WeakMap (docs/performance.md). The slot keeps the
 * last request reachable until the next one comes. Shared through the global
 * symbol registry, so that the ESM and CommonJS builds loaded side by side
 * (the dual-package hazard) use one table and one last-view slot.
 */
interface SharedState {
  readonly views: WeakMap<object, ProxyView>;
  lastRequest: object | undefined;
  lastView: ProxyView | undefined;
}

const STATE = sharedState<SharedState>('@waitress-proxy/express:state', () => ({
  views: new WeakMap(),
  lastRequest: undefined,
  lastView: undefined,
}));

function viewOf(request: object): ProxyView | undefined {
  const state = STATE;
  return request === state.lastRequest ? state.lastView : state.views.get(request);
}

/**
 * One plain getter per property, each reading the view in a line V8 can
 * inline into the handler that reads it.
 */
const GETTERS = {
  ip(this: object): unknown {
    const view = viewOf(this);
    return view === undefined ? EXPRESS.fallback(this, 'ip') : view.clientAddress;
  },
  // A copy, as Express's own `ips` builds a new array on every read (and as
  // the Fastify and Koa adapters give): the view's array is shared.
  ips(this: object): unknown {
    const view = viewOf(this);
    return view === undefined ? EXPRESS.fallback(this, 'ips') : view.ips.slice();
  },
  protocol(this: object): unknown {
    const view = viewOf(this);
    return view === undefined ? EXPRESS.fallback(this, 'protocol') : view.scheme;
  },
  secure(this: object): unknown {
    const view = viewOf(this);
    return view === undefined ? EXPRESS.fallback(this, 'secure') : view.scheme === 'https';
  },
  hostname(this: object): unknown {
    const view = viewOf(this);
    return view === undefined ? EXPRESS.fallback(this, 'hostname') : view.hostname;
  },
  // Express 5's `req.host` is the host with its port and reads
  // X-Forwarded-Host itself. Express 4's is its deprecated alias of
  // `req.hostname`, which already follows: it is left alone there.
  host(this: object): unknown {
    const view = viewOf(this);
    return view === undefined ? EXPRESS.fallback(this, 'host') : view.host;
  },
  // Not Express's: undefined unless the request passed the middleware (or
  // a prototype of the app's gives one).
  forwarded(this: object): unknown {
    return viewOf(this) ?? EXPRESS.fallback(this, 'forwarded');
  },
};

type Name = keyof typeof GETTERS;

const EXPRESS = requestGetters('@waitress-proxy/express', GETTERS);
const ALL_NAMES = Object.keys(GETTERS) as Name[];
const EXPRESS_4_NAMES = ALL_NAMES.filter((name) => name !== 'host');

/** `req.param()` exists in Express 4 only (removed in 5), whose `host` is left alone. */
function namesFor(prototype: object): readonly Name[] {
  return typeof (prototype as { param?: unknown }).param === 'function'
    ? EXPRESS_4_NAMES
    : ALL_NAMES;
}

/**
 * Stores `view` on one Express request, so that its proxy-dependent
 * properties return the view's values; installs the getters (on the base
 * request prototype that holds Express's own) the first time a request of a
 * new prototype chain comes by.
 */
export function setRequestView(request: object, view: ProxyView): void {
  EXPRESS.prepare(Object.getPrototypeOf(request) as object, namesFor);
  const state = STATE;
  state.views.set(request, view);
  state.lastRequest = request;
  state.lastView = view;
}
