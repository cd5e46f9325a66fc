/**
 * Request targets that are neither a path, an absolute URL nor `*`: Node's
 * parser passes `*@evil.example/x` on, and a URL built from the view's scheme
 * and host and that target (`http://app.example*@evil.example/x`, Koa's
 * `href` and `URL`) names the client's host, past `allowedHosts`. Each
 * framework answers 400 through its own error path, from any peer, and
 * nothing built from the view names another host.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { waitressProxy as expressProxy } from '@waitress-proxy/express';
import { waitressProxy as fastifyProxy } from '@waitress-proxy/fastify';
import { waitressProxy as koaProxy } from '@waitress-proxy/koa';
import type { WaitressProxyOptions } from '@waitress-proxy/core';
import { close, listen, sendRaw } from './wire.js';
import type { Endpoint } from './wire.js';

const silent = { warn: () => undefined };
const options: WaitressProxyOptions = {
  trustedProxy: '127.0.0.5',
  trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'],
  allowedHosts: ['shop.example'],
  logger: silent,
};

/** Each app answers with the URL it would build for a link, or the error it got. */
const apps: Record<string, () => Promise<{ server: Server; stop?: () => Promise<void> }>> = {
  express: () => {
    const app = express();
    app.use(expressProxy(options));
    app.use((req, res) => {
      res.json({ url: `${req.protocol}://${req.get('host') ?? ''}${req.originalUrl}` });
    });
    app.use(
      (err: Error & { status?: number }, req: Request, res: Response, _next: NextFunction) => {
        res.status(err.status ?? 500).json({ error: err.message, host: req.hostname });
      },
    );
    return Promise.resolve({ server: createServer(app) });
  },
  koa: () => {
    const app = new Koa();
    app.use(async (ctx, next) => {
      try {
        await next();
      } catch (error) {
        const err = error as Error & { status?: number };
        ctx.status = err.status ?? 500;
        ctx.body = { error: err.message, href: ctx.href, url: ctx.URL.href };
      }
    });
    app.use(koaProxy(options));
    app.use((ctx) => {
      ctx.body = { url: ctx.href, URL: ctx.URL.href };
    });
    const handler = app.callback();
    return Promise.resolve({
      server: createServer((req, res) => {
        void handler(req, res);
      }),
    });
  },
  fastify: async () => {
    const app = Fastify();
    await app.register(fastifyProxy, options);
    app.all('*', (request) => ({ url: `${request.protocol}://${request.host}${request.url}` }));
    await app.ready();
    return { server: app.server, stop: () => app.close() };
  },
};

describe.each(Object.keys(apps))('%s: a request target that is no path', (name) => {
  let server: Server;
  let endpoint: Endpoint;
  let stop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const started = await (
      apps[name] as () => Promise<{ server: Server; stop?: () => Promise<void> }>
    )();
    server = started.server;
    stop = started.stop;
    endpoint = await listen(server);
  });
  afterAll(async () => {
    if (stop !== undefined) await stop();
    else await close(server, endpoint);
  });

  it.each([
    ['a stranger', '127.0.0.9'],
    ['the trusted proxy', '127.0.0.5'],
  ])('*@evil.example/x from %s is a 400, and nothing names evil.example', async (_who, peer) => {
    const response = await sendRaw(endpoint, peer, [['Host', 'shop.example']], '*@evil.example/x');
    expect(response.status).toBe(400);
    expect(response.body).not.toContain('evil.example');
  });

  it('an honest request on the same app is answered', async () => {
    const response = await sendRaw(endpoint, '127.0.0.9', [['Host', 'shop.example']], '/x');
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ url: 'http://shop.example/x' });
  });

  // Koa builds href and URL from the view; Express's originalUrl and
  // Fastify's url keep the target as the client sent it, as those frameworks do.
  if (name === 'koa') {
    it('an absolute-form target gives the path, never its host', async () => {
      const response = await sendRaw(
        endpoint,
        '127.0.0.9',
        [['Host', 'shop.example']],
        'http://evil.example/x',
      );
      expect(response.body).not.toContain('evil.example');
    });
  }
});
