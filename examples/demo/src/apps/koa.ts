/** The Koa app: `app.use(waitressProxy(options))` first, then ordinary Koa. */
import { createServer } from 'node:http';
import Koa from 'koa';
import { waitressProxy } from '@waitress-proxy/koa';
import type { WaitressProxyOptions } from '@waitress-proxy/core';
import { listen } from './report.js';
import type { AppReport, RunningApp } from './report.js';

export function startKoaApp(options: WaitressProxyOptions): Promise<RunningApp> {
  const app = new Koa();
  // Koa answers a thrown MalformedProxyHeaderError (status 400, expose) itself;
  // this only keeps it out of the console.
  app.silent = true;
  app.use(waitressProxy(options));

  app.use((ctx) => {
    const prefix = ctx.state.forwarded?.prefix ?? '';
    // ctx.path is the path without the prefix (waitress's PATH_INFO).
    switch (ctx.path) {
      case '/whoami': {
        const report: AppReport = {
          framework: 'koa',
          clientAddress: ctx.ip,
          scheme: ctx.protocol,
          host: ctx.host,
          hostname: ctx.hostname,
          port: ctx.state.forwarded?.port,
          prefix,
          path: ctx.path,
          // Koa builds href from protocol, host and originalUrl.
          url: ctx.href,
          headers: ctx.headers,
        };
        ctx.body = report;
        return;
      }
      case '/go':
        // Koa 3's ctx.origin is the Origin request header: build it.
        ctx.redirect(`${ctx.protocol}://${ctx.host}${prefix}/whoami`);
        return;
      default:
        ctx.status = 404;
    }
  });

  const handle = app.callback();
  return listen(
    createServer((req, res) => {
      // Koa answers errors itself; the promise never rejects.
      void handle(req, res);
    }),
    'koa',
  );
}
