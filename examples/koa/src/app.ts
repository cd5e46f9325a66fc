/**
 * A Koa app behind a reverse proxy. `waitressProxy` goes first (after the
 * error handler, which must wrap it to see its 400); every middleware and
 * route after it sees the request as the client sent it to the proxy.
 */
import Koa from 'koa';
import type { Context } from 'koa';
import Router from '@koa/router';
import { MalformedProxyHeaderError, waitressProxy } from '@waitress-proxy/koa';
import type { WaitressProxyOptions } from '@waitress-proxy/koa';

/** What a request looks like to the app, for the demo's answers. */
function whatTheAppSees(ctx: Context) {
  return {
    url: ctx.href,
    ip: ctx.ip,
    ips: ctx.ips,
    protocol: ctx.protocol,
    secure: ctx.secure,
    host: ctx.host,
    hostname: ctx.hostname,
    path: ctx.path,
    originalUrl: ctx.originalUrl,
    forwarded: ctx.state.forwarded,
  };
}

export function createApp(options: WaitressProxyOptions): Koa {
  const app = new Koa();

  // A malformed proxy header from the trusted proxy arrives here as a 400.
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (!(err instanceof MalformedProxyHeaderError)) throw err;
      ctx.status = err.status;
      ctx.body = { error: err.message };
    }
  });

  app.use(waitressProxy(options));

  // With urlPrefix '/foo', '/foo/api/whoami' is routed as '/api/whoami'.
  const router = new Router();
  router.get('/', (ctx) => {
    ctx.body = whatTheAppSees(ctx);
  });
  const api = new Router({ prefix: '/api' });
  api.get('/whoami', (ctx) => {
    ctx.body = whatTheAppSees(ctx);
  });
  app.use(router.routes()).use(api.routes());
  return app;
}
