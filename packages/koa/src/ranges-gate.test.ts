/**
 * A range source in trustedProxy (`@waitress-proxy/ranges`), over real
 * sockets, on Koa 2 and 3: requests that arrive before its first load wait
 * for it, and a failed first load is a 503 whose error handler sees nothing
 * forged.
 */
import type { TrustedProxySource } from '@waitress-proxy/core';
import { TrustedRangesUnavailableError, waitressProxy } from './index.js';
import { KOA_VERSIONS, PROXY, send, start } from './test-support.js';

/** A source that trusts the proxy once the test lets its first load end. */
function deferredSource() {
  let loaded = false;
  let settle!: { resolve: () => void; reject: (error: Error) => void };
  const ready = new Promise<void>((resolve, reject) => {
    settle = {
      resolve: () => {
        loaded = true;
        resolve();
      },
      reject,
    };
  });
  const source: TrustedProxySource = {
    contains: (address) => loaded && address === PROXY,
    ready: () => ready,
  };
  return { source, settle };
}

describe.each(KOA_VERSIONS)('%s: a range source in trustedProxy', (_version, KoaClass) => {
  async function startApp(source: TrustedProxySource) {
    const app = new KoaClass();
    app.use(async (ctx, next) => {
      try {
        await next();
      } catch (err) {
        if (!(err instanceof TrustedRangesUnavailableError)) throw err;
        ctx.status = err.status;
        ctx.body = { error: err.message, ip: ctx.ip, xff: ctx.get('x-forwarded-for') };
      }
    });
    app.use(waitressProxy({ trustedProxy: source, trustedProxyHeaders: 'x-forwarded-for' }));
    app.use((ctx) => {
      ctx.body = { ip: ctx.ip };
    });
    return start(app);
  }

  it('holds a request that arrives before the first load, then answers with the trusted view', async () => {
    const { source, settle } = deferredSource();
    const running = await startApp(source);
    try {
      let answered = false;
      const pending = send(running.port, PROXY, '/', ['X-Forwarded-For', '198.51.100.7']).then(
        (exchange) => {
          answered = true;
          return exchange;
        },
      );
      await new Promise((done) => setTimeout(done, 100));
      expect(answered).toBe(false);
      settle.resolve();
      const { status, body } = await pending;
      expect({ status, body: JSON.parse(body) as unknown }).toEqual({
        status: 200,
        body: { ip: '198.51.100.7' },
      });
    } finally {
      await running.close();
    }
  });

  it('answers 503 when the first load failed, and the error handler sees no forged header', async () => {
    const { source, settle } = deferredSource();
    const running = await startApp(source);
    try {
      settle.reject(new Error('connect ECONNREFUSED'));
      const { status, body } = await send(running.port, PROXY, '/', [
        'X-Forwarded-For',
        '198.51.100.7',
      ]);
      expect({ status, body: JSON.parse(body) as unknown }).toEqual({
        status: 503,
        body: {
          error: 'Service Unavailable: the trusted proxy ranges could not be loaded.',
          ip: PROXY,
          xff: '',
        },
      });
    } finally {
      await running.close();
    }
  });
});
