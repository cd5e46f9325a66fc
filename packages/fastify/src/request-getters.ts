/**
 * Makes Fastify's request properties (`ip`, `ips`, `protocol`, `host`,
 * `hostname`, `port`) and the plugin's `request.forwarded` read the view the
 * plugin stored on the raw request (`request.raw`), where it is in place
 * before Fastify routes, so `frameworkErrors`, the 404 handler and every hook
 * read it.
 *
 * Fastify defines those properties as getters on its base Request prototype
 * (lib/request.js), non-configurably, and `decorateRequest` refuses names
 * that exist (FST_ERR_DEC_ALREADY_PRESENT): the plugin installs these getters
 * once, at registration, on the app's Request class
 * (`@waitress-proxy/core/internal` does the installing and the fallback). A
 * request with no view (an app without the plugin, or a route outside the
 * context the plugin was registered in) gets what Fastify would have given.
 *
 * With Fastify's `trustProxy`, the app's root class has its own
 * non-configurable `ip`, `ips`, `host` and `protocol`, which cannot be
 * replaced on the prototype: those four are defined on each request instead.
 */
import { requestGetters } from '@waitress-proxy/core/internal';
import { VIEW } from './raw-state.js';
import type { RawRequestState } from './raw-state.js';

/** A Fastify request, as the getters see it. */
interface ViewHolder {
  readonly raw: RawRequestState;
}

/**
 * The getters, one plain function per property: each reads the view in a
 * line V8 inlines into the handler.
 */
const GETTERS = {
  ip(this: ViewHolder): unknown {
    const view = this.raw[VIEW];
    return view === undefined ? FASTIFY.fallback(this, 'ip') : view.clientAddress;
  },
  // A copy, as Fastify's own `ips` gives a new array: the view's is shared.
  ips(this: ViewHolder): unknown {
    const view = this.raw[VIEW];
    return view === undefined ? FASTIFY.fallback(this, 'ips') : view.ips.slice();
  },
  protocol(this: ViewHolder): unknown {
    const view = this.raw[VIEW];
    return view === undefined ? FASTIFY.fallback(this, 'protocol') : view.scheme;
  },
  // Fastify's `host` and `hostname` are '' when the request has no Host.
  host(this: ViewHolder): unknown {
    const view = this.raw[VIEW];
    return view === undefined ? FASTIFY.fallback(this, 'host') : (view.host ?? '');
  },
  hostname(this: ViewHolder): unknown {
    const view = this.raw[VIEW];
    return view === undefined ? FASTIFY.fallback(this, 'hostname') : (view.hostname ?? '');
  },
  port(this: ViewHolder): unknown {
    const view = this.raw[VIEW];
    return view === undefined ? FASTIFY.fallback(this, 'port') : view.port;
  },
};

const FASTIFY = requestGetters('@waitress-proxy/fastify', GETTERS);

/**
 * Installs the getters over Fastify's own, up the chain of a context's
 * Request prototype (once, whichever copy of the plugin comes first). Fastify
 * defines its own non-configurably on its base Request prototype, so they go
 * on the app's Request class just below, which the context's class inherits
 * (the plugin decorates it, so Fastify does not fall back to the base class
 * for the context's routes). Returns what must be defined on each request
 * instead (`trustProxy`'s non-configurable names on the app's class), or null.
 */
export function installGetters(prototype: object): PropertyDescriptorMap | null {
  return FASTIFY.install(prototype);
}

/** `request.forwarded` (a getter decorator): null until the view is resolved. */
export function forwardedGetter(this: ViewHolder): unknown {
  return this.raw[VIEW] ?? null;
}

let own: PropertyDescriptorMap | undefined;

/**
 * The getters and `forwarded` as own properties of one request: the one
 * `frameworkErrors` gets, of Fastify's base Request class.
 */
export function ownGetters(): PropertyDescriptorMap {
  own ??= {
    ...FASTIFY.ownDescriptors(),
    forwarded: { get: forwardedGetter, enumerable: false, configurable: true },
  };
  return own;
}
