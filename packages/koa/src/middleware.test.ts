/**
 * The Koa adapter over real sockets, on Koa 2 and Koa 3: what every
 * middleware after `waitressProxy` sees.
 */
import Koa from 'koa';
import type { WaitressProxyOptions } from '@waitress-proxy/core';
import { MalformedProxyHeaderError, waitressProxy } from './index.js';
import {
  KOA_VERSIONS,
  PROXY,
  STRANGER,
  proxyLines,
  quietLogger,
  seen,
  send,
  start,
} from './test-support.js';
import type { ListenHost, Seen } from './test-support.js';

const X_FORWARDED = ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto'];

describe.each(KOA_VERSIONS)('%s', (_name, KoaApp) => {
  const isKoa2 = KoaApp !== Koa;

  /** An app with the middleware first, `configure`d, answering with what it saw. */
  async function exchange(
    options: WaitressProxyOptions,
    peer: string,
    path: string,
    rawHeaders: readonly string[],
    { configure, host }: { configure?: (app: Koa) => void; host?: ListenHost } = {},
  ): Promise<Seen> {
    const app = new KoaApp();
    configure?.(app);
    app.use(waitressProxy({ logger: quietLogger(), ...options }));
    app.use((ctx) => {
      ctx.body = seen(ctx);
    });
    const running = await start(app, host);
    try {
      const { status, body } = await send(running.port, peer, path, rawHeaders);
      expect({ status, body: status === 200 ? '' : body }).toEqual({ status: 200, body: '' });
      return JSON.parse(body) as Seen;
    } finally {
      await running.close();
    }
  }

  describe('a trusted proxy', () => {
    const options = { trustedProxy: PROXY, trustedProxyHeaders: X_FORWARDED };
    const forwarded = [
      'Host',
      'app.internal:8080',
      'X-Forwarded-For',
      '192.0.2.60',
      'X-Forwarded-Host',
      'example.com',
      'X-Forwarded-Proto',
      'https',
      'Origin',
      'https://example.com',
    ];

    it('X-Forwarded-* set the client, scheme and host every ctx getter reports', async () => {
      const ctx = await exchange(options, PROXY, '/a/b?q=1', forwarded);
      expect(ctx).toMatchObject({
        ip: '192.0.2.60',
        ips: ['192.0.2.60'],
        protocol: 'https',
        secure: true,
        host: 'example.com',
        hostname: 'example.com',
        href: 'https://example.com/a/b?q=1',
        URL: 'https://example.com/a/b?q=1',
        path: '/a/b',
        originalUrl: '/a/b?q=1',
      });
      expect(ctx.headers.host).toBe('example.com');
    });

    it('ctx.origin is the resolved origin in Koa 2, the Origin header in Koa 3', async () => {
      const ctx = await exchange(options, PROXY, '/', [
        ...forwarded.slice(0, -2),
        'Origin',
        'https://elsewhere.example',
      ]);
      expect(ctx.origin).toBe(isKoa2 ? 'https://example.com' : 'https://elsewhere.example');
    });

    it('the view is in ctx.state.forwarded and ctx.request.forwarded', async () => {
      const ctx = await exchange(options, PROXY, '/', forwarded);
      const view = {
        clientAddress: '192.0.2.60',
        scheme: 'https',
        host: 'example.com',
        hostname: 'example.com',
        port: 443,
        prefix: '',
        path: '/',
        ips: ['192.0.2.60'],
        peerAddress: PROXY,
        peerTrusted: true,
      };
      expect(ctx.forwarded).toEqual(view);
      expect(ctx.requestForwarded).toEqual(view);
    });

    it('Forwarded (RFC 7239) sets the client, scheme and host', async () => {
      const ctx = await exchange(
        { trustedProxy: PROXY, trustedProxyHeaders: 'forwarded' },
        PROXY,
        '/x',
        ['Forwarded', 'for="[2001:db8::1]:4711";proto=https;host=example.com:8443'],
      );
      expect(ctx).toMatchObject({
        ip: '2001:db8::1',
        ips: ['2001:db8::1'],
        protocol: 'https',
        secure: true,
        host: 'example.com:8443',
        hostname: 'example.com',
        href: 'https://example.com:8443/x',
        URL: 'https://example.com:8443/x',
      });
      expect(ctx.headers.host).toBe('example.com:8443');
    });

    it('only the trusted window counts: the oldest entry inside it is the client', async () => {
      const ctx = await exchange(
        { trustedProxy: PROXY, trustedProxyCount: 2, trustedProxyHeaders: X_FORWARDED },
        PROXY,
        '/',
        ['X-Forwarded-For', '6.6.6.6, 192.0.2.1, 198.51.100.7'],
      );
      expect(ctx.ip).toBe('192.0.2.1');
      expect(ctx.ips).toEqual(['192.0.2.1', '198.51.100.7']);
    });

    it('trusted headers are cut to the window in ctx.headers and ctx.req.rawHeaders', async () => {
      const ctx = await exchange(
        { trustedProxy: PROXY, trustedProxyCount: 2, trustedProxyHeaders: X_FORWARDED },
        PROXY,
        '/',
        [
          'Host',
          'app.internal',
          'X-Forwarded-For',
          '6.6.6.6',
          'X-Forwarded-For',
          '192.0.2.1, 198.51.100.7',
          'X-Forwarded-Host',
          'evil.example, example.com, proxy.internal',
        ],
      );
      expect(ctx.headers['x-forwarded-for']).toBe('192.0.2.1, 198.51.100.7');
      expect(ctx.headers['x-forwarded-host']).toBe('example.com, proxy.internal');
      expect(proxyLines(ctx.rawHeaders)).toEqual([
        'Host',
        'example.com',
        'X-Forwarded-For',
        '192.0.2.1, 198.51.100.7',
        'X-Forwarded-Host',
        'example.com, proxy.internal',
      ]);
    });

    it('proxy headers outside trustedProxyHeaders are removed, every line of them', async () => {
      const ctx = await exchange(
        { trustedProxy: PROXY, trustedProxyHeaders: ['x-forwarded-for'] },
        PROXY,
        '/',
        [
          'X-Forwarded-For',
          '192.0.2.1',
          'X-Forwarded-Proto',
          'https',
          'x-forwarded-host',
          'evil.example',
          'X-FORWARDED-HOST',
          'evil2.example',
          'Forwarded',
          'for=6.6.6.6',
        ],
      );
      expect(ctx).toMatchObject({ ip: '192.0.2.1', protocol: 'http', host: 'app.internal' });
      expect(Object.keys(ctx.headers).filter((name) => name.includes('forwarded'))).toEqual([
        'x-forwarded-for',
      ]);
      expect(proxyLines(ctx.rawHeaders)).toEqual([
        'Host',
        'app.internal',
        'X-Forwarded-For',
        '192.0.2.1',
      ]);
    });
  });

  describe('an untrusted peer', () => {
    const forged = [
      'Host',
      'app.internal',
      'X-Forwarded-For',
      '6.6.6.6',
      'X-Forwarded-Host',
      'evil.example',
      'X-Forwarded-Proto',
      'https',
      'X-Forwarded-Port',
      '443',
      'Forwarded',
      'for=6.6.6.6;proto=https;host=evil.example',
    ];

    it('forged proxy headers change nothing and are removed', async () => {
      const ctx = await exchange(
        { trustedProxy: PROXY, trustedProxyHeaders: X_FORWARDED },
        STRANGER,
        '/p?q',
        forged,
      );
      expect(ctx).toMatchObject({
        ip: STRANGER,
        ips: [],
        protocol: 'http',
        secure: false,
        host: 'app.internal',
        hostname: 'app.internal',
        href: 'http://app.internal/p?q',
        URL: 'http://app.internal/p?q',
      });
      expect(Object.keys(ctx.headers).filter((name) => name.includes('forwarded'))).toEqual([]);
      expect(proxyLines(ctx.rawHeaders)).toEqual(['Host', 'app.internal']);
    });

    it('with no trustedProxy at all, every peer is untrusted', async () => {
      const ctx = await exchange({}, PROXY, '/', forged);
      expect(ctx).toMatchObject({ ip: PROXY, protocol: 'http', host: 'app.internal' });
      expect(proxyLines(ctx.rawHeaders)).toEqual(['Host', 'app.internal']);
    });
  });

  describe("the middleware's values win over Koa's proxy settings", () => {
    const proxySettings = (app: Koa) => {
      app.proxy = true;
      app.proxyIpHeader = 'X-Real-IP';
      app.maxIpsCount = 1;
    };

    it('app.proxy, proxyIpHeader and maxIpsCount do not change a trusted chain', async () => {
      const ctx = await exchange(
        { trustedProxy: PROXY, trustedProxyCount: 2, trustedProxyHeaders: X_FORWARDED },
        PROXY,
        '/',
        [
          'X-Forwarded-For',
          '192.0.2.1, 198.51.100.7',
          'X-Real-IP',
          '6.6.6.6',
          'X-Forwarded-Proto',
          'https',
        ],
        { configure: proxySettings },
      );
      expect(ctx).toMatchObject({ ip: '192.0.2.1', ips: ['192.0.2.1', '198.51.100.7'] });
    });

    it('app.proxy does not make Koa read headers kept from an untrusted peer', async () => {
      // clearUntrustedProxyHeaders: false leaves the forged headers in place,
      // where Koa's own getters would read them with app.proxy on.
      const ctx = await exchange(
        {
          trustedProxy: PROXY,
          trustedProxyHeaders: X_FORWARDED,
          clearUntrustedProxyHeaders: false,
        },
        STRANGER,
        '/',
        [
          'Host',
          'app.internal',
          'X-Forwarded-For',
          '6.6.6.6',
          'X-Real-IP',
          '6.6.6.6',
          'X-Forwarded-Host',
          'evil.example',
          'X-Forwarded-Proto',
          'https',
        ],
        {
          configure: (app) => {
            app.proxy = true;
          },
        },
      );
      expect(ctx.headers['x-forwarded-host']).toBe('evil.example');
      expect(ctx).toMatchObject({
        ip: STRANGER,
        ips: [],
        protocol: 'http',
        secure: false,
        host: 'app.internal',
        hostname: 'app.internal',
        href: 'http://app.internal/',
        URL: 'http://app.internal/',
      });
    });

    it("a request that skips the middleware keeps Koa's own getters", async () => {
      const app = new KoaApp();
      app.proxy = true;
      const middleware = waitressProxy({
        trustedProxy: PROXY,
        trustedProxyHeaders: X_FORWARDED,
        logger: quietLogger(),
      });
      app.use(async (ctx, next) => {
        if (ctx.path === '/raw') await next();
        else await middleware(ctx, next);
      });
      app.use((ctx) => {
        ctx.body = seen(ctx);
      });
      const running = await start(app);
      try {
        const headers = ['X-Forwarded-For', '6.6.6.6', 'X-Forwarded-Proto', 'https'];
        const viaMiddleware = JSON.parse(
          (await send(running.port, STRANGER, '/', headers)).body,
        ) as Seen;
        const raw = JSON.parse((await send(running.port, STRANGER, '/raw', headers)).body) as Seen;
        expect(viaMiddleware).toMatchObject({ ip: STRANGER, protocol: 'http' });
        expect(raw).toMatchObject({ ip: '6.6.6.6', protocol: 'https' });
        expect(raw.forwarded).toBeUndefined();
      } finally {
        await running.close();
      }
    });

    it('ctx.ip and ctx.URL read before the middleware are replaced after it', async () => {
      const before: string[] = [];
      const ctx = await exchange(
        { trustedProxy: PROXY, trustedProxyHeaders: X_FORWARDED },
        PROXY,
        '/',
        [
          'X-Forwarded-For',
          '192.0.2.1',
          'X-Forwarded-Proto',
          'https',
          'X-Forwarded-Host',
          'example.com',
        ],
        {
          configure: (app) => {
            app.use((early, next) => {
              before.push(early.ip, early.URL.href);
              return next();
            });
          },
        },
      );
      expect(before).toEqual([PROXY, 'http://app.internal/']);
      expect(ctx).toMatchObject({ ip: '192.0.2.1', URL: 'https://example.com/' });
    });
  });

  describe('a server listening on ::', () => {
    it('an IPv4-mapped trusted proxy is trusted, and the client is plain IPv4', async () => {
      const ctx = await exchange(
        { trustedProxy: PROXY, trustedProxyHeaders: X_FORWARDED },
        PROXY,
        '/',
        ['X-Forwarded-For', '192.0.2.1', 'X-Forwarded-Proto', 'https'],
        { host: '::' },
      );
      expect(ctx).toMatchObject({ ip: '192.0.2.1', protocol: 'https' });
      expect(ctx.forwarded).toMatchObject({ peerAddress: PROXY, peerTrusted: true });
    });

    it('an IPv4-mapped untrusted peer is reported as plain IPv4', async () => {
      const ctx = await exchange(
        { trustedProxy: PROXY, trustedProxyHeaders: X_FORWARDED },
        STRANGER,
        '/',
        ['X-Forwarded-For', '6.6.6.6'],
        { host: '::' },
      );
      expect(ctx).toMatchObject({ ip: STRANGER, ips: [] });
      expect(ctx.forwarded).toMatchObject({ peerAddress: STRANGER, peerTrusted: false });
    });
  });

  describe('a malformed header from a trusted proxy', () => {
    const options = {
      trustedProxy: PROXY,
      trustedProxyHeaders: X_FORWARDED,
    };
    const malformed = ['X-Forwarded-Proto', 'gopher'];

    it('reaches an upstream error-handling middleware as a 400 naming the header', async () => {
      const app = new KoaApp();
      const caught: unknown[] = [];
      let reachedHandler = false;
      app.use(async (ctx, next) => {
        try {
          await next();
        } catch (err) {
          caught.push(err);
          const { status, message } = err as { status: number; message: string };
          ctx.status = status;
          ctx.body = `handled: ${message}`;
        }
      });
      app.use(waitressProxy({ ...options, logger: quietLogger() }));
      app.use((ctx) => {
        reachedHandler = true;
        ctx.body = 'not here';
      });
      const running = await start(app);
      try {
        const response = await send(running.port, PROXY, '/', malformed);
        expect(response).toEqual({
          status: 400,
          body: 'handled: Header "X-Forwarded-Proto" malformed.',
        });
      } finally {
        await running.close();
      }
      expect(reachedHandler).toBe(false);
      expect(caught).toHaveLength(1);
      expect(caught[0]).toBeInstanceOf(MalformedProxyHeaderError);
      expect(caught[0]).toMatchObject({
        status: 400,
        statusCode: 400,
        expose: true,
        header: 'X-Forwarded-Proto',
        code: 'WAITRESS_PROXY_MALFORMED_HEADER',
      });
    });

    it('the upstream handler sees the direct connection and no forged header, even with app.proxy', async () => {
      const app = new KoaApp();
      app.proxy = true;
      let seen: unknown;
      app.use(async (ctx, next) => {
        try {
          await next();
        } catch {
          seen = {
            ip: ctx.ip,
            protocol: ctx.protocol,
            forwardedFor: ctx.get('x-forwarded-for'),
            raw: ctx.req.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase()),
          };
          ctx.status = 400;
        }
      });
      app.use(waitressProxy({ ...options, logger: quietLogger() }));
      const running = await start(app);
      try {
        await send(running.port, PROXY, '/', [...malformed, 'X-Forwarded-For', '6.6.6.6']);
      } finally {
        await running.close();
      }
      expect(seen).toMatchObject({ ip: PROXY, protocol: 'http', forwardedFor: '' });
      expect((seen as { raw: string[] }).raw.filter((n) => n.startsWith('x-forwarded'))).toEqual(
        [],
      );
    });

    it("without a handler, Koa answers 400 with the message and emits app.on('error')", async () => {
      const app = new KoaApp();
      const emitted: unknown[] = [];
      app.on('error', (err: unknown) => {
        emitted.push(err);
      });
      const logger = quietLogger();
      app.use(waitressProxy({ ...options, logger }));
      app.use((ctx) => {
        ctx.body = 'not here';
      });
      const running = await start(app);
      try {
        const response = await send(running.port, PROXY, '/', malformed);
        expect(response).toEqual({ status: 400, body: 'Header "X-Forwarded-Proto" malformed.' });
      } finally {
        await running.close();
      }
      expect(emitted).toHaveLength(1);
      expect(emitted[0]).toBeInstanceOf(MalformedProxyHeaderError);
      expect(emitted[0]).toMatchObject({ status: 400, expose: true, header: 'X-Forwarded-Proto' });
      expect(logger.lines).toEqual([
        expect.stringContaining(`Malformed proxy header "X-Forwarded-Proto" from "${PROXY}"`),
      ]);
    });

    it('the same header from an untrusted peer is removed, not refused', async () => {
      const ctx = await exchange(options, STRANGER, '/', malformed);
      expect(ctx).toMatchObject({ ip: STRANGER, protocol: 'http' });
      expect(ctx.headers['x-forwarded-proto']).toBeUndefined();
    });
  });

  describe('start-up', () => {
    it('a bad option throws when the middleware is made, naming the option', () => {
      expect(() => waitressProxy({ trustedProxyCount: 2 })).toThrow(/trustedProxyCount/);
    });
  });
});
