/**
 * A range source in trustedProxy (`@waitress-proxy/ranges`): Fastify's
 * registration waits for its first load, so no request is answered before
 * the ranges are known, and the app refuses to start when that load failed.
 */
import Fastify from 'fastify';
import { TrustedRangesUnavailableError, waitressProxy } from './index.js';
import type { TrustedProxySource } from './index.js';

/** A source that trusts 127.0.0.1 once the test lets its first load end. */
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
    contains: (address) => loaded && address === '127.0.0.1',
    ready: () => ready,
  };
  return { source, settle };
}

describe('Fastify: a range source in trustedProxy', () => {
  it('does not finish registering until the first load, then trusts the loaded ranges', async () => {
    const { source, settle } = deferredSource();
    const app = Fastify();
    let registered = false;
    const registering = app
      .register(waitressProxy, { trustedProxy: source, trustedProxyHeaders: 'x-forwarded-for' })
      .then(() => {
        registered = true;
      });
    app.get('/', (request) => ({ ip: request.ip }));
    await new Promise((done) => setTimeout(done, 50));
    expect(registered).toBe(false);
    settle.resolve();
    await registering;
    expect(registered).toBe(true);
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const address = app.server.address();
      if (address === null || typeof address === 'string') throw new Error('no port');
      const response = await fetch(`http://127.0.0.1:${address.port}/`, {
        headers: { 'x-forwarded-for': '198.51.100.7' },
      });
      expect(await response.json()).toEqual({ ip: '198.51.100.7' });
    } finally {
      await app.close();
    }
  });

  it('refuses to start when the first load failed, naming the cause', async () => {
    const { source, settle } = deferredSource();
    const app = Fastify();
    void app.register(waitressProxy, {
      trustedProxy: ['10.0.0.5', source],
      trustedProxyHeaders: 'x-forwarded-for',
    });
    settle.reject(new Error('GET https://ranges.invalid/ips-v4: 500'));
    const started = app.ready();
    await expect(started).rejects.toBeInstanceOf(TrustedRangesUnavailableError);
    await expect(started).rejects.toMatchObject({
      cause: { message: 'GET https://ranges.invalid/ips-v4: 500' },
    });
    await app.close().catch(() => undefined);
  });
});
