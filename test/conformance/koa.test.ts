/**
 * Koa 2 and 3 in the conformance matrix. Requests are routed by @koa/router
 * (so the prefix rows are routing through it), and errors go through Koa's
 * own error path: an upstream error-handling middleware, as Koa apps write
 * it. Koa-only behaviour (app.proxy, a router `prefix`, app.on('error'),
 * Koa 3's `ctx.origin`) is tested in packages/koa.
 */
import { createServer } from 'node:http';
import { createSecureServer, createServer as createH2cServer } from 'node:http2';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import Router from '@koa/router';
import type { RouterContext } from '@koa/router';
import Koa from 'koa';
import type { Middleware } from 'koa';
import Koa2 from 'koa2';
import { waitressProxy } from '@waitress-proxy/koa';
import { describeConformance, isAdapterError, testCertificate } from './harness.js';
import type { ErrorReport, Harness, Observation, Transport } from './harness.js';

// Koa 2 runs under Koa 3's types here (the properties read are the same);
// packages/koa's typings test checks the middleware against Koa 2's own.
const VERSIONS: readonly (readonly [string, typeof Koa])[] = [
  ['Koa 3', Koa],
  ['Koa 2', Koa2 as unknown as typeof Koa],
];

/** The conformance `Observation`, read through Koa's API. */
function observe(ctx: RouterContext): Observation {
  return {
    view: ctx.state.forwarded!,
    app: {
      ip: ctx.ip,
      ips: ctx.ips,
      protocol: ctx.protocol,
      secure: ctx.secure,
      // Koa gives '' where there is no host; the matrix says undefined.
      hostname: ctx.hostname === '' ? undefined : ctx.hostname,
      host: ctx.host === '' ? undefined : ctx.host,
      url: ctx.href,
      path: ctx.path,
    },
    headers: ctx.headers as Record<string, string | string[]>,
    rawHeaders: ctx.req.rawHeaders,
    socket: { remoteAddress: ctx.socket.remoteAddress!, remotePort: ctx.socket.remotePort! },
  };
}

/** Renders an error the way a Koa app's own error middleware would, as an `ErrorReport`. */
const reportError: Middleware = async (ctx, next) => {
  try {
    await next();
  } catch (err) {
    if (!isAdapterError(err)) throw err;
    const report: ErrorReport = {
      error: { name: err.name, message: err.message, status: err.status, expose: err.expose },
    };
    ctx.status = err.status;
    ctx.body = report;
  }
};

function harnessFor(name: string, KoaApp: typeof Koa, transport: Transport): Harness {
  return {
    name: transport === 'http/1.1' ? name : `${name} over ${transport}`,
    transport,
    async createServer(options) {
      const app = new KoaApp();
      app.use(reportError);
      app.use(waitressProxy(options));
      const router = new Router();
      router.get('{/*path}', (ctx) => {
        ctx.body = observe(ctx);
      });
      app.use(router.routes());
      const handle = app.callback();
      // Koa's callback returns a promise that always settles (it handles
      // its own errors); node's 'request' listener ignores it.
      const listener = (req: Http2ServerRequest, res: Http2ServerResponse): void => {
        void handle(req, res);
      };
      switch (transport) {
        case 'http/1.1':
          return createServer((req, res) => {
            void handle(req, res);
          });
        case 'h2c':
          return createH2cServer(listener);
        case 'h2 over TLS':
          return createSecureServer({ ...(await testCertificate()), allowHTTP1: true }, listener);
      }
    },
  };
}

// HTTP/2 as Koa serves it: Node's compatibility API, h2c and TLS with
// allowHTTP1 (packages/koa/src/http2.test.ts has the HTTP/1.1 fallback).
const TRANSPORTS: readonly Transport[] = ['http/1.1', 'h2c', 'h2 over TLS'];
for (const transport of TRANSPORTS) {
  for (const [name, KoaApp] of VERSIONS) describeConformance(harnessFor(name, KoaApp, transport));
}
