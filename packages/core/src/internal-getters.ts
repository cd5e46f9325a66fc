/**
 * The plumbing every adapter uses to make a framework's request properties
 * (`ip`, `protocol`, `hostname`...) read the resolved view: not public API
 * (`@waitress-proxy/core/internal`), it may change with any release.
 *
 * Express, Fastify and Koa define those properties as getters on a request
 * prototype. Replacing them per request (`defineProperty` on each request)
 * costs about 0.1 µs a name; so each adapter installs its own getters once on
 * a prototype, and per request only stores the view where its getters read it
 * (the adapter decides where: a WeakMap, a symbol slot, the raw request).
 * What is generic, and lives here:
 *
 * - install once per prototype, whichever copy of the adapter comes first: the
 *   ESM and CommonJS builds loaded side by side (the dual-package hazard) each
 *   have their own module state, so the marks are `Symbol.for` keys and the
 *   state they share is in the global symbol registry (`sharedState`);
 * - the fallback: a request without a view (one that skipped the middleware)
 *   reads what the framework would have given: the getter that was there, or
 *   the one inherited from further up. An inherited getter that is itself one
 *   of ours (a parent app's or context's prototype, patched before or after)
 *   is passed over for the table it keeps, never called: calling it would look
 *   the table up on the request again, find the nearer one, and recurse;
 * - assignment: `req.ip = value` (some middleware does it) gives that request
 *   an own value, which wins over the getter;
 * - a name the prototype holds as non-configurable (Fastify's `trustProxy`
 *   class) cannot be replaced there: it is returned as a descriptor to define
 *   on each request instead.
 */

/** A getter as installed: `this` is the request. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each adapter types its own request
export type RequestGetter = (this: any) => unknown;

/** How the framework reads one name for a request, before our getter. */
type Original = (request: object) => unknown;
type Fallbacks = Readonly<Record<string, Original | undefined>>;

/** What every copy of this module shares, in the global symbol registry. */
interface Registry {
  /** Every getter any copy installed, so `inherited` recognizes them all. */
  readonly getters: WeakSet<RequestGetter>;
}

/**
 * The object kept under `Symbol.for(key)` on `globalThis`, made by `create`
 * the first time any copy of the caller asks for it.
 */
export function sharedState<T extends object>(key: string, create: () => T): T {
  const registry = globalThis as unknown as Record<symbol, T | undefined>;
  const symbol = Symbol.for(key);
  let state = registry[symbol];
  if (state === undefined) {
    state = create();
    registry[symbol] = state;
  }
  return state;
}

const REGISTRY = sharedState<Registry>('@waitress-proxy/core:request-getters', () => ({
  getters: new WeakSet(),
}));

/** One adapter's getters, bound to the prototypes it patches. */
export interface RequestGetters<Name extends string> {
  /**
   * What the framework would give for `name` on `request`: the getter's answer
   * for a request without a view. Undefined when nothing up the chain defines
   * `name`.
   */
  fallback(request: object, name: Name): unknown;
  /**
   * Installs the getters on the objects of `prototype`'s chain that hold the
   * framework's own (each once, whichever copy of the adapter comes first),
   * and returns the descriptors to define on each request for names held as
   * non-configurable, or null when there are none. `names` limits the
   * installation (Express 4 keeps its own `host`).
   */
  install(prototype: object, names?: readonly Name[]): PropertyDescriptorMap | null;
  /**
   * The getters as own properties, to define on a request whose prototype
   * cannot take them (Fastify's base Request, of which it makes the request
   * `frameworkErrors` gets): its table, found on the prototype, is the one a
   * holder up its chain keeps after `install`.
   */
  ownDescriptors(): PropertyDescriptorMap;
  /**
   * `install(prototype, namesFor(prototype))`, remembered per prototype: per
   * request, one comparison with the last prototype seen, else one WeakMap
   * read.
   */
  prepare(
    prototype: object,
    namesFor?: (prototype: object) => readonly Name[],
  ): PropertyDescriptorMap | null;
}

/** Whether `a` is on `b`'s prototype chain, above it. */
function isAbove(a: object, b: object): boolean {
  return a !== b && Object.prototype.isPrototypeOf.call(a, b);
}

/**
 * Builds the installer for one adapter. `owner` names it (its package name):
 * the marks on patched prototypes are `Symbol.for(owner + ':...')`, shared by
 * every copy of that adapter. `getters` holds one plain function per name
 * (not closures made in a loop, which would share one call site for every
 * name): each reads the view and calls `fallback` when there is none.
 */
export function requestGetters<Name extends string>(
  owner: string,
  getters: Readonly<Record<Name, RequestGetter>>,
): RequestGetters<Name> {
  const FALLBACKS = Symbol.for(`${owner}:fallbacks`);
  const PER_REQUEST = Symbol.for(`${owner}:per-request`);
  const allNames = Object.keys(getters) as Name[];
  for (const name of allNames) REGISTRY.getters.add(getters[name]);

  /**
   * What `name` reads from `from` up for `request`, passing over getters of
   * ours for the table their object keeps.
   */
  function inherited(from: object | null, name: string, request: object): unknown {
    for (
      let object = from;
      object !== null;
      object = Object.getPrototypeOf(object) as object | null
    ) {
      const descriptor = Object.getOwnPropertyDescriptor(object, name);
      if (descriptor === undefined) continue;
      // eslint-disable-next-line @typescript-eslint/unbound-method -- called with the request as `this`
      const get = descriptor.get;
      if (get !== undefined && REGISTRY.getters.has(get)) {
        const table = Object.getOwnPropertyDescriptor(object, FALLBACKS)?.value as
          Fallbacks | undefined;
        return table?.[name]?.(request);
      }
      return get === undefined ? (descriptor.value as unknown) : (get.call(request) as unknown);
    }
    return undefined;
  }

  function original(
    name: string,
    existing: PropertyDescriptor | undefined,
    parent: object | null,
  ): Original {
    if (existing === undefined) return (request) => inherited(parent, name, request);
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with the request as `this`
    const get = existing.get;
    if (get !== undefined) {
      // Ours already (a per-request name of another copy): its table answers.
      if (REGISTRY.getters.has(get)) return (request) => inherited(parent, name, request);
      return (request) => get.call(request) as unknown;
    }
    return () => existing.value as unknown;
  }

  function setter(name: string): (this: object, value: unknown) => void {
    return function (value) {
      Object.defineProperty(this, name, {
        value,
        writable: true,
        enumerable: true,
        configurable: true,
      });
    };
  }

  /** Whether the name as the framework defines it is enumerable (Express and Koa: yes; Fastify: no). */
  function enumerable(target: object, name: string): boolean {
    for (
      let object: object | null = target;
      object !== null;
      object = Object.getPrototypeOf(object) as object | null
    ) {
      const descriptor = Object.getOwnPropertyDescriptor(object, name);
      if (descriptor !== undefined) return descriptor.enumerable === true;
    }
    return false;
  }

  /**
   * Installs `names` on `target` itself, once; the table kept there answers
   * every name (those installed elsewhere through the chain).
   */
  function installOn(target: object, names: readonly Name[]): PropertyDescriptorMap | null {
    if (Object.prototype.hasOwnProperty.call(target, FALLBACKS)) {
      return (Object.getOwnPropertyDescriptor(target, PER_REQUEST)?.value ??
        null) as PropertyDescriptorMap | null;
    }
    const parent = Object.getPrototypeOf(target) as object | null;
    const fallbacks: Record<string, Original> = {};
    let perRequest: PropertyDescriptorMap | null = null;
    for (const name of allNames) {
      if (!names.includes(name)) {
        fallbacks[name] = (request) => inherited(target, name, request);
        continue;
      }
      const existing = Object.getOwnPropertyDescriptor(target, name);
      fallbacks[name] = original(name, existing, parent);
      const descriptor: PropertyDescriptor = {
        get: getters[name],
        set: setter(name),
        enumerable: enumerable(target, name),
        configurable: true,
      };
      if (existing === undefined || existing.configurable === true) {
        Object.defineProperty(target, name, descriptor);
      } else {
        (perRequest ??= {})[name] = descriptor;
      }
    }
    Object.defineProperty(target, FALLBACKS, { value: Object.freeze(fallbacks) });
    Object.defineProperty(target, PER_REQUEST, { value: perRequest });
    return perRequest;
  }

  /**
   * Installs each name on the object of `prototype`'s chain that holds the
   * framework's getter (Express's and Koa's base request: shared by every app
   * made from that copy of the framework, whose requests without a view read
   * the framework's own answer). A holder that defines it non-configurably
   * (Fastify's base Request prototype) cannot take ours: it goes on the
   * object just below, which shadows it (the app's Request class), or, when
   * the holder is `prototype` itself, on each request. Names no object holds
   * go on the holder furthest up.
   */
  function install(
    prototype: object,
    names: readonly Name[] = allNames,
  ): PropertyDescriptorMap | null {
    const targets = new Map<object, Name[]>();
    const add = (target: object, name: Name): void => {
      targets.set(target, [...(targets.get(target) ?? []), name]);
    };
    let top: object | undefined;
    const unheld: Name[] = [];
    for (const name of names) {
      let below: object | undefined;
      let holder: object | null = prototype;
      while (holder !== null && !Object.prototype.hasOwnProperty.call(holder, name)) {
        below = holder;
        holder = Object.getPrototypeOf(holder) as object | null;
      }
      if (holder === null) {
        unheld.push(name);
        continue;
      }
      if (top === undefined || isAbove(holder, top)) top = holder;
      const held = Object.getOwnPropertyDescriptor(holder, name);
      // Ours already (installed before, maybe by another copy): it stays there.
      // eslint-disable-next-line @typescript-eslint/unbound-method -- compared, not called
      const heldGetter = held?.get;
      const ours = heldGetter !== undefined && REGISTRY.getters.has(heldGetter);
      add(held?.configurable === true || ours || below === undefined ? holder : below, name);
    }
    for (const name of unheld) add(top ?? prototype, name);
    let perRequest: PropertyDescriptorMap | null = null;
    for (const [target, held] of targets) {
      const plan = installOn(target, held);
      if (plan !== null) perRequest = Object.assign(perRequest ?? {}, plan);
    }
    return perRequest;
  }

  // What `prepare` found per prototype; the last one first (Express switches
  // a request's prototype between apps, so the last is not always the one).
  const plans = new WeakMap<object, PropertyDescriptorMap | null>();
  let lastPrototype: object | null = null;
  let lastPlan: PropertyDescriptorMap | null = null;

  let own: PropertyDescriptorMap | undefined;

  return {
    ownDescriptors() {
      if (own === undefined) {
        own = {};
        for (const name of allNames) {
          own[name] = {
            get: getters[name],
            set: setter(name),
            enumerable: false,
            configurable: true,
          };
        }
      }
      return own;
    },
    fallback(request, name) {
      const table = (request as Record<symbol, Fallbacks | undefined>)[FALLBACKS];
      return table?.[name]?.(request);
    },
    install,
    prepare(prototype, namesFor) {
      if (prototype === lastPrototype) return lastPlan;
      // `has`, not `get() ?? install()`: most plans are null.
      const plan = plans.has(prototype)
        ? (plans.get(prototype) ?? null)
        : install(prototype, namesFor?.(prototype));
      plans.set(prototype, plan);
      lastPrototype = prototype;
      lastPlan = plan;
      return plan;
    },
  };
}
