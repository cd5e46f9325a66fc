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

/** A Fastify request, as the getters see it. */
interface ViewHolder {
  forwarded?: ProxyView | null;
}

type Read = (view: ProxyView) => unknown;

/** Each property the plugin takes over, and how it reads the view. */
const READERS: ReadonlyArray<readonly [name: string, read: Read]> = [
  ['ip', (view) => view.clientAddress],
  // A copy, as Fastify's own `ips` gives a new array: the view's is shared.
  ['ips', (view) => view.ips.slice()],
  ['protocol', (view) => view.scheme],
  // Fastify's `host` and `hostname` are '' when the request has no Host.
  ['host', (view) => view.host ?? ''],
  ['hostname', (view) => view.hostname ?? ''],
  ['port', (view) => view.port],
];

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
    plan = plans.get(prototype) ?? install(prototype);
    lastPrototype = prototype;
    lastPlan = plan;
  }
  if (plan !== null) Object.defineProperties(request, plan);
}

function install(prototype: object): PropertyDescriptorMap | null {
  const parent = Object.getPrototypeOf(prototype) as object | null;
  let perRequest: PropertyDescriptorMap | null = null;
  for (const [name, read] of READERS) {
    const existing = Object.getOwnPropertyDescriptor(prototype, name);
    const descriptor: PropertyDescriptor = {
      get: viewGetter(read, original(name, existing, parent)),
      enumerable: false,
      configurable: true,
    };
    if (existing === undefined || existing.configurable === true) {
      Object.defineProperty(prototype, name, descriptor);
    } else {
      (perRequest ??= {})[name] = descriptor;
    }
  }
  plans.set(prototype, perRequest);
  return perRequest;
}

function viewGetter(read: Read, fallback: (request: object) => unknown): () => unknown {
  return function (this: ViewHolder) {
    const view = this.forwarded;
    return view === null || view === undefined ? fallback(this) : read(view);
  };
}

/** How Fastify reads `name` for `request`, before the plugin's getter. */
function original(
  name: string,
  existing: PropertyDescriptor | undefined,
  parent: object | null,
): (request: object) => unknown {
  if (existing === undefined) {
    return (request) =>
      parent === null ? undefined : (Reflect.get(parent, name, request) as unknown);
  }
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with the request as `this`
  const get = existing.get;
  if (get !== undefined) return (request) => get.call(request) as unknown;
  return () => existing.value as unknown;
}
