/**
 * The adapters' shared getter plumbing, on prototype chains shaped like the
 * frameworks' (each case names the one it models), including the cases that
 * broke before: two stack overflows (a patched prototype above a patched
 * one), a request that skipped the middleware, an assignment, Fastify's
 * non-configurable getters, and the ESM and CommonJS builds side by side.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { requestGetters } from './internal.js';

const VIEW = Symbol('view');

interface Holder {
  [VIEW]?: { ip: string };
}

/** A getters set as an adapter writes it: the view, else the framework's own. */
function adapter(owner: string) {
  const getters = {
    ip(this: Holder): unknown {
      const view = this[VIEW];
      return view === undefined ? plumbing.fallback(this, 'ip') : view.ip;
    },
    forwarded(this: Holder): unknown {
      return this[VIEW];
    },
  };
  const plumbing = requestGetters(owner, getters);
  return plumbing;
}

let owners = 0;
/** A fresh owner name per test, so marks of one test never meet another's. */
const freshOwner = (): string => `@waitress-proxy/test-${String((owners += 1))}`;

/** A framework's base request: a configurable getter reading the socket (Express, Koa). */
function configurableBase(): object {
  const base = {};
  Object.defineProperty(base, 'ip', {
    get(this: { socketAddress?: string }) {
      return this.socketAddress;
    },
    configurable: true,
    enumerable: true,
  });
  return base;
}

describe('requestGetters', () => {
  it('a request with a view reads it; one that skipped the middleware reads the framework’s own', () => {
    const plumbing = adapter(freshOwner());
    const base = configurableBase();
    const app = Object.create(base) as object;
    expect(plumbing.install(app)).toBeNull();
    const passed = Object.assign(Object.create(app) as object, {
      socketAddress: '10.0.0.5',
      [VIEW]: { ip: '203.0.113.7' },
    });
    const skipped = Object.assign(Object.create(app) as object, { socketAddress: '10.0.0.5' });
    expect(Reflect.get(passed, 'ip')).toBe('203.0.113.7');
    expect(Reflect.get(skipped, 'ip')).toBe('10.0.0.5');
    // Installed where the framework's getter was, keeping its enumerability.
    expect(Object.getOwnPropertyDescriptor(base, 'ip')?.enumerable).toBe(true);
    // A name the framework does not have goes beside it, and answers undefined without a view.
    expect(Object.prototype.hasOwnProperty.call(base, 'forwarded')).toBe(true);
    expect(Reflect.get(skipped, 'forwarded')).toBeUndefined();
  });

  it('an assignment gives that request its own value, which wins over the view', () => {
    const plumbing = adapter(freshOwner());
    const base = configurableBase();
    plumbing.install(base);
    const request = Object.assign(Object.create(base) as Holder & { ip?: unknown }, {
      [VIEW]: { ip: '203.0.113.7' },
    });
    request.ip = '192.0.2.1';
    expect(request.ip).toBe('192.0.2.1');
    expect(Object.getOwnPropertyDescriptor(request, 'ip')).toMatchObject({ writable: true });
    const other = Object.assign(Object.create(base) as object, { [VIEW]: { ip: '203.0.113.8' } });
    expect(Reflect.get(other, 'ip')).toBe('203.0.113.8');
  });

  it('installs once: a second install, from another prototype below, changes nothing', () => {
    const plumbing = adapter(freshOwner());
    const base = configurableBase();
    // eslint-disable-next-line @typescript-eslint/unbound-method -- compared, not called
    const getter = (): unknown => Object.getOwnPropertyDescriptor(base, 'ip')?.get;
    plumbing.install(Object.create(base) as object);
    const installed = getter();
    plumbing.install(Object.create(base) as object);
    plumbing.install(base);
    expect(getter()).toBe(installed);
    const skipped = Object.assign(Object.create(base) as object, { socketAddress: '10.0.0.5' });
    expect(Reflect.get(skipped, 'ip')).toBe('10.0.0.5');
  });

  it('an Express sub-app: the request’s prototype switches between apps, both chains reach one getter', () => {
    // Express: app.request inherits the base request; a mounted sub-app's
    // app.request inherits the parent's; the router switches a request's
    // prototype as it enters and leaves the sub-app.
    const plumbing = adapter(freshOwner());
    const base = configurableBase();
    const parentApp = Object.create(base) as object;
    const subApp = Object.create(parentApp) as object;
    const request = Object.assign(Object.create(subApp) as object, { socketAddress: '10.0.0.5' });
    plumbing.install(subApp);
    expect(Reflect.get(request, 'ip')).toBe('10.0.0.5');
    Object.setPrototypeOf(request, parentApp);
    plumbing.install(parentApp);
    Object.assign(request, { [VIEW]: { ip: '203.0.113.7' } });
    expect(Reflect.get(request, 'ip')).toBe('203.0.113.7');
    Object.setPrototypeOf(request, subApp);
    expect(Reflect.get(request, 'ip')).toBe('203.0.113.7');
  });

  it('a child class of Fastify’s Request: non-configurable base getters are shadowed just below, child classes inherit', () => {
    // Fastify: the base Request prototype defines `ip` non-configurably; the
    // app's class prototype inherits it; an encapsulated context's class
    // inherits the app's.
    const plumbing = adapter(freshOwner());
    const base = {};
    Object.defineProperty(base, 'ip', {
      get(this: { socketAddress?: string }) {
        return this.socketAddress;
      },
    });
    const appClass = Object.create(base) as object;
    const childClass = Object.create(appClass) as object;
    const grandchildClass = Object.create(childClass) as object;
    expect(plumbing.install(childClass)).toBeNull();
    expect(Object.prototype.hasOwnProperty.call(appClass, 'ip')).toBe(true);
    expect(Object.prototype.hasOwnProperty.call(childClass, 'ip')).toBe(false);
    // Patched in the other order too, from the grandchild: still one getter, no recursion.
    expect(plumbing.install(grandchildClass)).toBeNull();
    for (const prototype of [appClass, childClass, grandchildClass]) {
      const skipped = Object.assign(Object.create(prototype) as object, {
        socketAddress: '10.0.0.5',
      });
      const passed = Object.assign(Object.create(prototype) as object, {
        [VIEW]: { ip: '203.0.113.7' },
      });
      expect(Reflect.get(skipped, 'ip')).toBe('10.0.0.5');
      expect(Reflect.get(passed, 'ip')).toBe('203.0.113.7');
    }
  });

  it('a patched prototype above a patched one: the fallback goes to the framework, not round the two getters', () => {
    // The two stack overflows: each table's fallback called the getter above,
    // which looked the nearer table up on the request again.
    const plumbing = adapter(freshOwner());
    const base = configurableBase();
    const upper = Object.create(base) as object;
    // Someone's own getter between the two (an app that redefined `ip`).
    Object.defineProperty(upper, 'ip', {
      get(this: { socketAddress?: string }) {
        return `app:${String(this.socketAddress)}`;
      },
      configurable: true,
    });
    const lower = Object.create(upper) as object;
    plumbing.install(lower);
    // Installed over the app's getter (the nearest holder), falling back to it.
    const skipped = Object.assign(Object.create(lower) as object, { socketAddress: '10.0.0.5' });
    expect(Reflect.get(skipped, 'ip')).toBe('app:10.0.0.5');
    plumbing.install(base);
    expect(Reflect.get(skipped, 'ip')).toBe('app:10.0.0.5');
  });

  it('a prototype that is itself the non-configurable holder: the getters are for each request', () => {
    // Fastify with trustProxy: the app's class defines `ip` non-configurably.
    const plumbing = adapter(freshOwner());
    const holder = {};
    Object.defineProperty(holder, 'ip', {
      get(this: { socketAddress?: string }) {
        return this.socketAddress;
      },
    });
    const perRequest = plumbing.install(holder);
    expect(Object.keys(perRequest ?? {})).toEqual(['ip']);
    const request = Object.assign(Object.create(holder) as object, {
      socketAddress: '10.0.0.5',
    });
    Object.defineProperties(request, perRequest ?? {});
    expect(Reflect.get(request, 'ip')).toBe('10.0.0.5');
    Object.assign(request, { [VIEW]: { ip: '203.0.113.7' } });
    expect(Reflect.get(request, 'ip')).toBe('203.0.113.7');
    // Remembered: the same plan again, from `prepare` too.
    expect(plumbing.install(holder)).toEqual(perRequest);
    expect(plumbing.prepare(holder)).toEqual(perRequest);
  });

  it('ownDescriptors: the getters on one request whose prototype cannot take them', () => {
    const plumbing = adapter(freshOwner());
    const base = {};
    Object.defineProperty(base, 'ip', {
      get(this: { socketAddress?: string }) {
        return this.socketAddress;
      },
    });
    plumbing.install(Object.create(base) as object);
    const request = Object.assign(Object.create(base) as object, {
      socketAddress: '10.0.0.5',
      [VIEW]: { ip: '203.0.113.7' },
    });
    expect(Reflect.get(request, 'ip')).toBe('10.0.0.5');
    Object.defineProperties(request, plumbing.ownDescriptors());
    expect(Reflect.get(request, 'ip')).toBe('203.0.113.7');
  });
});

describe('the ESM and CommonJS builds side by side (dual-package hazard)', () => {
  const dist = join(__dirname, '..', 'dist');

  it('each build installing on the same prototype gives one getter set and the framework’s value without a view', () => {
    if (!existsSync(join(dist, 'internal.cjs'))) {
      throw new Error('packages/core/dist is missing: run `pnpm run build` (npm test does it)');
    }
    // One process loads both builds, as an app whose ESM code and CommonJS
    // dependency each import the adapter; each copy installs with its own
    // getter functions on one base, from two apps' prototypes.
    const script = `
      const { requestGetters: cjs } = require(${JSON.stringify(join(dist, 'internal.cjs'))});
      import(${JSON.stringify(join(dist, 'internal.js'))}).then(({ requestGetters: esm }) => {
        const VIEW = Symbol.for('test:view');
        const make = (requestGetters) => {
          const getters = { ip() { const v = this[VIEW]; return v === undefined ? p.fallback(this, 'ip') : v.ip; } };
          const p = requestGetters('@waitress-proxy/dual-test', getters);
          return p;
        };
        const a = make(cjs), b = make(esm);
        const base = {};
        Object.defineProperty(base, 'ip', { get() { return this.socket; }, configurable: true });
        const app1 = Object.create(base), app2 = Object.create(base);
        a.install(app1);
        const first = Object.getOwnPropertyDescriptor(base, 'ip').get;
        b.install(app2);
        const second = Object.getOwnPropertyDescriptor(base, 'ip').get;
        const skipped = Object.assign(Object.create(app2), { socket: '10.0.0.5' });
        const passed = Object.assign(Object.create(app1), { [VIEW]: { ip: '203.0.113.7' } });
        console.log(JSON.stringify({ same: first === second, skipped: skipped.ip, passed: passed.ip,
          viaOther: b.fallback(skipped, 'ip') }));
      });
    `;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({
      same: true,
      skipped: '10.0.0.5',
      passed: '203.0.113.7',
      viaOther: '10.0.0.5',
    });
  });
});
