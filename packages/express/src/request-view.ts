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
 * the setter gives that request an own value.
 */
import type { ProxyView } from '@waitress-proxy/core';

// Shared through the global symbol registry, so that the ESM and CommonJS
// builds loaded side by side (the dual-package hazard) use one table, one
// last-view slot and one installation.
const STATE_KEY = Symbol.for('@waitress-proxy/express:state');
const FALLBACKS = Symbol.for('@waitress-proxy/express:fallbacks');

/**
 * The views, and the last one stored with its request: a cache in front of
 * the WeakMap, which always holds every view. Getters are read mostly by
 * the request that last passed the middleware, and for it a comparison
 * replaces a WeakMap read; counted by callgrind in the end-to-end app, the
 * reads of `ip`, `protocol` and `hostname` cost about 7,000 instructions per
 * request through the WeakMap (docs/performance.md). The slot keeps the
 * last request reachable until the next one comes.
 */
interface SharedState {
  readonly views: WeakMap<object, ProxyView>;
  lastRequest: object | undefined;
  lastView: ProxyView | undefined;
}

const STATE = sharedState();

function sharedState(): SharedState {
  const registry = globalThis as Record<symbol, SharedState | undefined>;
  let state = registry[STATE_KEY];
  if (state === undefined) {
    state = { views: new WeakMap(), lastRequest: undefined, lastView: undefined };
    registry[STATE_KEY] = state;
  }
  return state;
}

function viewOf(request: object): ProxyView | undefined {
  const state = STATE;
  return request === state.lastRequest ? state.lastView : state.views.get(request);
}

type Name = 'ip' | 'ips' | 'protocol' | 'secure' | 'hostname' | 'host' | 'forwarded';
type Fallbacks = Readonly<Partial<Record<Name, (request: object) => unknown>>>;

interface ViewHolder {
  [FALLBACKS]?: Fallbacks;
}

function fallback(request: ViewHolder, name: Name): unknown {
  return request[FALLBACKS]?.[name]?.(request);
}

/**
 * One plain getter per property, each reading the view in a line V8 can
 * inline into the handler that reads it.
 */
const GETTERS: Readonly<Record<Name, (this: ViewHolder) => unknown>> = {
  ip() {
    const view = viewOf(this);
    return view === undefined ? fallback(this, 'ip') : view.clientAddress;
  },
  // A copy, as Express's own `ips` builds a new array on every read (and as
  // the Fastify and Koa adapters give): the view's array is shared.
  ips() {
    const view = viewOf(this);
    return view === undefined ? fallback(this, 'ips') : view.ips.slice();
  },
  protocol() {
    const view = viewOf(this);
    return view === undefined ? fallback(this, 'protocol') : view.scheme;
  },
  secure() {
    const view = viewOf(this);
    return view === undefined ? fallback(this, 'secure') : view.scheme === 'https';
  },
  hostname() {
    const view = viewOf(this);
    return view === undefined ? fallback(this, 'hostname') : view.hostname;
  },
  // Express 5's `req.host` is the host with its port and reads
  // X-Forwarded-Host itself. Express 4's is its deprecated alias of
  // `req.hostname`, which already follows: it is left alone there.
  host() {
    const view = viewOf(this);
    return view === undefined ? fallback(this, 'host') : view.host;
  },
  // Not Express's: undefined unless the request passed the middleware (or
  // a prototype of the app's gives one).
  forwarded() {
    return viewOf(this) ?? fallback(this, 'forwarded');
  },
};

/** The setter of every name: an own, writable value on that request. */
function setter(name: Name): (this: object, value: unknown) => void {
  return function (value) {
    Object.defineProperty(this, name, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  };
}

let lastPrototype: object | null = null;

/**
 * Stores `view` on one Express request, so that its proxy-dependent
 * properties return the view's values; installs the getters the first time
 * a request of a new prototype chain comes by.
 */
export function setRequestView(request: object, view: ProxyView): void {
  const prototype = Object.getPrototypeOf(request) as object;
  if (prototype !== lastPrototype) {
    const owner = ownerOf(prototype, 'ip');
    if (owner !== undefined && !Object.prototype.hasOwnProperty.call(owner, FALLBACKS)) {
      install(owner);
    }
    lastPrototype = prototype;
  }
  const state = STATE;
  state.views.set(request, view);
  state.lastRequest = request;
  state.lastView = view;
}

/** The object on `from`'s chain that holds `name` itself. */
function ownerOf(from: object | null, name: string): object | undefined {
  for (
    let object = from;
    object !== null;
    object = Object.getPrototypeOf(object) as object | null
  ) {
    if (Object.prototype.hasOwnProperty.call(object, name)) return object;
  }
  return undefined;
}

function install(prototype: object): void {
  const parent = Object.getPrototypeOf(prototype) as object | null;
  // `req.param()` exists in Express 4 only (removed in 5).
  const express4 = typeof (prototype as { param?: unknown }).param === 'function';
  const fallbacks: Partial<Record<Name, (request: object) => unknown>> = {};
  for (const name of Object.keys(GETTERS) as Name[]) {
    if (name === 'host' && express4) continue;
    fallbacks[name] = original(name, Object.getOwnPropertyDescriptor(prototype, name), parent);
    Object.defineProperty(prototype, name, {
      get: GETTERS[name],
      set: setter(name),
      enumerable: true,
      configurable: true,
    });
  }
  Object.defineProperty(prototype, FALLBACKS, { value: Object.freeze(fallbacks) });
}

/** How Express reads `name` for `request`, before the middleware's getter. */
function original(
  name: Name,
  existing: PropertyDescriptor | undefined,
  parent: object | null,
): (request: object) => unknown {
  if (existing === undefined) return (request) => inherited(parent, name, request);
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with the request as `this`
  const get = existing.get;
  if (get !== undefined) return (request) => get.call(request) as unknown;
  return () => existing.value as unknown;
}

/**
 * What `name` reads from `from` up for `request`, passing over the
 * middleware's own getters: a patched ancestor (the `app.request` of an app
 * a sub-app is mounted in, patched before or after it) answers from its own
 * table. Going through its getter would look the table up on the request
 * again, and find this one.
 */
function inherited(from: object | null, name: Name, request: object): unknown {
  for (
    let object = from;
    object !== null;
    object = Object.getPrototypeOf(object) as object | null
  ) {
    const descriptor = Object.getOwnPropertyDescriptor(object, name);
    if (descriptor === undefined) continue;
    if (descriptor.get === GETTERS[name]) {
      const table = Object.getOwnPropertyDescriptor(object, FALLBACKS)?.value as
        Fallbacks | undefined;
      return table?.[name]?.(request);
    }
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called with the request as `this`
    const get = descriptor.get;
    return get === undefined ? (descriptor.value as unknown) : (get.call(request) as unknown);
  }
  return undefined;
}
