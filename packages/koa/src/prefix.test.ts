/**
 * `urlPrefix` with @koa/router, on Koa 2 and Koa 3: routing sees the path
 * without the prefix (waitress's PATH_INFO), `ctx.originalUrl` and the
 * absolute URLs keep it, and the view carries it (SCRIPT_NAME).
 */
import Router from '@koa/router';
import type { RouterContext } from '@koa/router';
import type Koa from 'koa';
import { waitressProxy } from './index.js';
import { KOA_VERSIONS, PROXY, quietLogger, send, start } from './test-support.js';

interface Routed {
  readonly route: string;
  readonly id?: string;
  readonly path: string;
  readonly url: string;
  readonly originalUrl: string;
  readonly href: string;
  readonly prefix: string | undefined;
}

describe.each(KOA_VERSIONS)('%s with @koa/router', (_name, KoaApp) => {
  /** An app served under `/api`, behind a trusted proxy that sets the scheme and host. */
  function appWith(routerPrefix: string | undefined): Koa {
    const app = new KoaApp();
    app.use(
      waitressProxy({
        trustedProxy: PROXY,
        trustedProxyHeaders: ['x-forwarded-proto', 'x-forwarded-host'],
        urlPrefix: '/api/',
        logger: quietLogger(),
      }),
    );
    const router = routerPrefix === undefined ? new Router() : new Router({ prefix: routerPrefix });
    const answer = (route: string) => (ctx: RouterContext) => {
      const routed: Routed = {
        route,
        ...(typeof ctx.params.id === 'string' ? { id: ctx.params.id } : {}),
        path: ctx.path,
        url: ctx.url,
        originalUrl: ctx.originalUrl,
        href: ctx.href,
        prefix: ctx.state.forwarded?.prefix,
      };
      ctx.body = routed;
    };
    router.get('/', answer('root'));
    router.get('/users/:id', answer('user'));
    app.use(router.routes());
    return app;
  }

  async function get(routerPrefix: string | undefined, path: string): Promise<Routed | number> {
    const running = await start(appWith(routerPrefix));
    try {
      const response = await send(running.port, PROXY, path, [
        'X-Forwarded-Proto',
        'https',
        'X-Forwarded-Host',
        'example.com',
      ]);
      return response.status === 200 ? (JSON.parse(response.body) as Routed) : response.status;
    } finally {
      await running.close();
    }
  }

  it.each([
    {
      behaviour: 'a path below the prefix is routed without it',
      routerPrefix: undefined,
      path: '/api/users/7?x=1',
      expected: {
        route: 'user',
        id: '7',
        path: '/users/7',
        url: '/users/7?x=1',
        originalUrl: '/api/users/7?x=1',
        href: 'https://example.com/api/users/7?x=1',
        prefix: '/api',
      },
    },
    {
      behaviour: 'the path equal to the prefix is the root route',
      routerPrefix: undefined,
      path: '/api',
      expected: {
        route: 'root',
        path: '/',
        url: '/',
        originalUrl: '/api',
        href: 'https://example.com/api',
        prefix: '/api',
      },
    },
    {
      behaviour: 'the prefix with a query alone is the root route with the query',
      routerPrefix: undefined,
      path: '/api?x=1',
      expected: {
        route: 'root',
        path: '/',
        url: '/?x=1',
        originalUrl: '/api?x=1',
        href: 'https://example.com/api?x=1',
        prefix: '/api',
      },
    },
    {
      behaviour: "a router prefix matches after the middleware's prefix",
      routerPrefix: '/v1',
      path: '/api/v1/users/7',
      expected: {
        route: 'user',
        id: '7',
        path: '/v1/users/7',
        url: '/v1/users/7',
        originalUrl: '/api/v1/users/7',
        href: 'https://example.com/api/v1/users/7',
        prefix: '/api',
      },
    },
  ])('$behaviour', async ({ routerPrefix, path, expected }) => {
    expect(await get(routerPrefix, path)).toEqual(expected);
  });

  it.each([
    {
      behaviour: 'a path that only starts with the prefix text is not stripped',
      path: '/apiusers/7',
      expected: 404,
    },
    {
      // waitress strips the prefix only where it is a whole leading segment.
      behaviour: 'a path outside the prefix is routed as received, as waitress leaves it',
      path: '/users/7',
      expected: {
        route: 'user',
        id: '7',
        path: '/users/7',
        url: '/users/7',
        originalUrl: '/users/7',
        href: 'https://example.com/users/7',
        prefix: '/api',
      },
    },
  ])('$behaviour', async ({ path, expected }) => {
    expect(await get(undefined, path)).toEqual(expected);
  });
});
