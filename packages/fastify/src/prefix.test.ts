/**
 * urlPrefix on Fastify: the prefix is stripped by the `rewriteUrl` server
 * option that `waitressProxyRewriteUrl` builds (Fastify routes before any
 * hook), and the plugin refuses to start when that set-up is missing or
 * disagrees with its own options.
 */
import { IncomingMessage } from 'node:http';
import type { Server } from 'node:http';
import { Socket } from 'node:net';
import Fastify from 'fastify';
import type { FastifyHttpOptions, FastifyRequest } from 'fastify';
import { WaitressProxyConfigError, waitressProxy, waitressProxyRewriteUrl } from './index.js';
import type { WaitressProxyOptions } from './index.js';
import { PROXY, RecordingLogger, exchangeAll } from './test-support.js';

const OPTIONS: WaitressProxyOptions = {
  trustedProxy: PROXY,
  trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-proto'],
  urlPrefix: '/app',
  logger: new RecordingLogger(),
};

function routing(route: string) {
  return (request: FastifyRequest) => ({
    route,
    url: request.url,
    originalUrl: request.originalUrl,
    prefix: request.forwarded.prefix,
    path: request.forwarded.path,
    ip: request.ip,
  });
}

/** The documented two-line set-up, with a route at `/`, `/x` and `/application`. */
async function prefixedApp(options: WaitressProxyOptions = OPTIONS) {
  const app = Fastify({ rewriteUrl: waitressProxyRewriteUrl(options) });
  await app.register(waitressProxy, options);
  app.get('/', routing('/'));
  app.get('/x', routing('/x'));
  app.get('/application', routing('/application'));
  return app;
}

describe('urlPrefix through rewriteUrl', () => {
  it.each([
    ['/app/x', { route: '/x', url: '/x', path: '/x' }],
    ['/app/x?q=1', { route: '/x', url: '/x?q=1', path: '/x?q=1' }],
    ['/app', { route: '/', url: '/', path: '' }],
    ['/app?q=1', { route: '/', url: '/?q=1', path: '?q=1' }],
    ['/app/', { route: '/', url: '/', path: '/' }],
    // Only a whole path segment is the prefix (waitress).
    ['/application', { route: '/application', url: '/application', path: '/application' }],
    ['/x', { route: '/x', url: '/x', path: '/x' }],
    // An absolute-form target (RFC 9112 3.2.2) is routed by its path and query.
    ['http://app.example/app/x?q=1', { route: '/x', url: '/x?q=1', path: '/x?q=1' }],
  ])('%s is routed as %o, with request.originalUrl as received', async (sent, expected) => {
    const [response] = await exchangeAll(await prefixedApp(), [
      { peer: PROXY, path: sent, lines: ['X-Forwarded-For', '203.0.113.7'] },
    ]);
    expect(response!.status).toBe(200);
    expect(response!.json).toEqual({
      ...expected,
      originalUrl: sent,
      prefix: '/app',
      ip: '203.0.113.7',
    });
  });

  it('a path repeating the prefix loses it once', async () => {
    const app = await prefixedApp();
    app.get('/app/x', routing('/app/x'));
    const [response] = await exchangeAll(app, [{ peer: PROXY, path: '/app/app/x' }]);
    expect(response!.json).toMatchObject({ route: '/app/x', url: '/app/x', path: '/app/x' });
  });

  it('the prefix is normalized the same way in both halves', async () => {
    const options = { ...OPTIONS, urlPrefix: 'app/' };
    const [response] = await exchangeAll(await prefixedApp(options), [
      { peer: PROXY, path: '/app/x' },
    ]);
    expect(response!.json).toMatchObject({ route: '/x', prefix: '/app' });
  });

  it('without urlPrefix the rewrite leaves every URL alone', () => {
    const rewrite = waitressProxyRewriteUrl({});
    const app = Fastify();
    for (const url of ['/', '/app/x', '/x?q=1']) {
      const req = new IncomingMessage(new Socket());
      req.url = url;
      expect(rewrite.call(app, req)).toBe(url);
    }
  });

  it('an invalid urlPrefix is refused when the rewrite is built', () => {
    expect(() => waitressProxyRewriteUrl({ urlPrefix: '/app?x=1' })).toThrow(
      WaitressProxyConfigError,
    );
  });
});

describe('the plugin refuses to start when the rewrite does not match', () => {
  const mismatches: [string, FastifyHttpOptions<Server>, WaitressProxyOptions, RegExp][] = [
    [
      'no rewriteUrl',
      {},
      OPTIONS,
      /urlPrefix is "\/app", but Fastify's rewriteUrl option is not set/,
    ],
    [
      'a rewriteUrl of its own',
      { rewriteUrl: (req) => req.url ?? '/' },
      OPTIONS,
      /rewriteUrl option is not the one waitressProxyRewriteUrl builds/,
    ],
    [
      'a rewrite for another prefix',
      { rewriteUrl: waitressProxyRewriteUrl({ urlPrefix: '/other' }) },
      OPTIONS,
      /rewriteUrl strips "\/other", but the plugin's urlPrefix is "\/app"/,
    ],
    [
      'a rewrite with a prefix the plugin does not have',
      { rewriteUrl: waitressProxyRewriteUrl(OPTIONS) },
      { ...OPTIONS, urlPrefix: undefined },
      /rewriteUrl strips "\/app", but the plugin's urlPrefix is not set/,
    ],
  ];
  it.each(mismatches)('with %s', async (_name, serverOptions, options, message) => {
    const app = Fastify(serverOptions);
    const registered = app.register(waitressProxy, options);
    await expect(registered).rejects.toThrow(WaitressProxyConfigError);
    await expect(Fastify(serverOptions).register(waitressProxy, options)).rejects.toThrow(message);
  });

  it('names the fix in the message', async () => {
    await expect(Fastify().register(waitressProxy, OPTIONS)).rejects.toThrow(
      'Create the app with Fastify({ rewriteUrl: waitressProxyRewriteUrl(options) })',
    );
  });

  it('inside an encapsulated child, it still checks the root app’s rewriteUrl', async () => {
    const app = Fastify({ rewriteUrl: waitressProxyRewriteUrl(OPTIONS) });
    await app.register(async (child) => {
      await child.register(waitressProxy, OPTIONS);
      child.get('/x', routing('/x'));
    });
    const [response] = await exchangeAll(app, [{ peer: PROXY, path: '/app/x' }]);
    expect(response!.json).toMatchObject({ route: '/x', originalUrl: '/app/x', prefix: '/app' });

    const bare = Fastify();
    await expect(
      bare.register(async (child) => {
        await child.register(waitressProxy, OPTIONS);
      }),
    ).rejects.toThrow(/rewriteUrl option is not set/);
  });
});
