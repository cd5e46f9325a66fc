/**
 * Makes Fastify's request properties (`ip`, `ips`, `protocol`, `host`,
 * `hostname`, `port`) read `request.forwarded`, the view the plugin stored.
 *
 * Fastify defines them as getters on its Request prototype (lib/request.js),
 * and `decorateRequest` refuses names that exist (FST_ERR_DEC_ALREADY_PRESENT).
 * Defining them as own properties of each request works but costs about
 * 0.7 µs a request (six `defineProperty` calls); instead, the first request
 * of each Request class to pass the plugin installs getters on that class's
 * prototype, once. Fastify builds one class per encapsulation context that
 * decorates requests, so a request's own prototype is never shared with
 * another Fastify app. Per request the cost is one prototype lookup.
 *
 * A request of a patched class that never passed the plugin (a route of a
 * plugin registered before this one) has `forwarded` null or unset: the
 * getters then give what Fastify would have given.
 *
 * With Fastify's `trustProxy`, the app's root class has its own
 * non-configurable `ip`, `ips`, `host` and `protocol`, which cannot be
 * replaced on the prototype: those four are defined on each request instead.
 */
import type { ProxyView } from '@waitress-proxy/core';

/** Where a patched prototype keeps Fastify's own reading of each property. */
const FALLBACKS = Symbol('@waitress-proxy/fastify:fallbacks');

type Name = 'ip' | 'ips' | 'protocol' | 'host' | 'hostname' | 'port';
type Fallbacks = Readonly<Record<Name, (request: object) => unknown>>;

/** A Fastify request, as the getters see it. */
interface ViewHolder {
  forwarded?: ProxyView | null;
  [FALLBACKS]?: Fallbacks;
}

function fallback(request: ViewHolder, name: Name): unknown {
  return request[FALLBACKS]?.[name](request);
}

/**
 * The getters, one plain function per property (not closures made by one
 * factory, which would share one call site for six readers): each reads the
 * view in a line V8 inlines into the handler.
 */
const GETTERS: Readonly<Record<Name, (this: ViewHolder) => unknown>> = {
  ip() {
    const view = this.forwarded;
    return view == null ? fallback(this, 'ip') : view.clientAddress;
  },
  // A copy, as Fastify's own `ips` gives a new array: the view's is shared.
  ips() {
    const view = this.forwarded;
    return view == null ? fallback(this, 'ips') : view.ips.slice();
  },
  protocol() {
    const view = this.forwarded;
    return view == null ? fallback(this, 'protocol') : view.scheme;
  },
  // Fastify's `host` and `hostname` are '' when the request has no Host.
  host() {
    const view = this.forwarded;
    return view == null ? fallback(this, 'host') : (view.host ?? '');
  },
  hostname() {
    const view = this.forwarded;
    return view == null ? fallback(this, 'hostname') : (view.hostname ?? '');
  },
  port() {
    const view = this.forwarded;
    return view == null ? fallback(this, 'port') : view.port;
  },
};

const NAMES = Object.keys(GETTERS) as Name[];

/**
 * For each prototype seen: the descriptors to define on each request of
 * that class (only with `trustProxy`), or null when the prototype carries
 * them all.
 */
const plans = new WeakMap<object, PropertyDescriptorMap | null>();
let lastPrototype: object | null = null;
let lastPlan: PropertyDescriptorMap | null = null;

/** Makes `request`'s properties follow `request.forwarded` (already set). */
export function followView(request: object): void {
  const prototype = Object.getPrototypeOf(request) as object;
  let plan: PropertyDescriptorMap | null;
  if (prototype === lastPrototype) {
    plan = lastPlan;
  } else {
    // `has`, not `get() ?? install()`: a plan is null for most classes, and a
    // patched prototype must not be patched again.
    plan = plans.has(prototype) ? (plans.get(prototype) ?? null) : install(prototype);
    lastPrototype = prototype;
    lastPlan = plan;
  }
  if (plan !== null) Object.defineProperties(request, plan);
}

function install(prototype: object): PropertyDescriptorMap | null {
  const parent = Object.getPrototypeOf(prototype) as object | null;
  let perRequest: PropertyDescriptorMap | null = null;
  const fallbacks = {} as Record<Name, (request: object) => unknown>;
  for (const name of NAMES) {
    const existing = Object.getOwnPropertyDescriptor(prototype, name);
    fallbacks[name] = original(name, existing, parent);
    const descriptor: PropertyDescriptor = {
      get: GETTERS[name],
      enumerable: false,
      configurable: true,
    };
    if (existing === undefined || existing.configurable === true) {
      Object.defineProperty(prototype, name, descriptor);
    } else {
      (perRequest ??= {})[name] = descriptor;
    }
  }
  Object.defineProperty(prototype, FALLBACKS, { value: Object.freeze(fallbacks) });
  plans.set(prototype, perRequest);
  return perRequest;
}

/** How Fastify reads `name` for `request`, before the plugin's getter. */
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
 * What `name` reads from `from` up for `request`, passing over the plugin's
 * own getters: a patched ancestor (a parent context's class, patched before
 * or after this one) answers from its own table. Going through its getter
 * instead would look the table up on the request again, and find this one.
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
      return table?.[name](request);
    }
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called with the request as `this`
    const get = descriptor.get;
    return get === undefined ? (descriptor.value as unknown) : (get.call(request) as unknown);
  }
  return undefined;
}
