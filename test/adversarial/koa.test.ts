/**
 * The adversarial corpus through the Koa adapter (Koa 3) over real sockets:
 * what the app reads through Koa's own API (`ctx.ip`, `ctx.protocol`,
 * `ctx.host`, `ctx.hostname`, `ctx.headers`) after the middleware ran, and
 * the adapter's 400 through the app's error middleware.
 */
import { createServer } from 'node:http';
import Koa from 'koa';
import { MalformedProxyHeaderError, waitressProxy } from '@waitress-proxy/koa';
import { CORPUS } from './corpus.js';
import { observationBody, runCaseOverSocket } from './wire.js';
import type { ServerFactory } from './wire.js';

const koaServer: ServerFactory = (options, maxHeaderSize) => {
  const app = new Koa();
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (!(err instanceof MalformedProxyHeaderError)) throw err;
      ctx.status = err.status;
      ctx.body = err.message;
    }
  });
  app.use(waitressProxy({ ...options, logger: { warn: () => undefined } }));
  app.use((ctx) => {
    ctx.type = 'application/json';
    ctx.body = observationBody(
      {
        clientAddress: ctx.ip,
        clientPort: ctx.state.forwarded?.clientPort,
        scheme: ctx.protocol,
        host: ctx.host,
        hostname: ctx.hostname,
        port: ctx.state.forwarded?.port,
      },
      ctx.req,
    );
  });
  const handle = app.callback();
  return createServer(maxHeaderSize === undefined ? {} : { maxHeaderSize }, (req, res) => {
    void handle(req, res);
  });
};

describe('adversarial corpus over real sockets: Koa 3 adapter', () => {
  it.each(CORPUS.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await runCaseOverSocket(c, koaServer);
  });
});
