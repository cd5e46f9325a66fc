/**
 * The apps of the deployment-shape tests (issue 18): each framework with its
 * adapter, listening the way a shape needs, on a Unix socket (Express and Koa
 * through `http.Server#listen(path)`, Fastify through `listen({ path })`) or
 * as HTTP/2 without TLS on loopback (Koa on `http2.createServer`, Fastify
 * with `http2: true`; Express cannot serve HTTP/2). Every app answers
 * `GET /whoami` with what it saw, as a `Seen`.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { createServer as createH2cServer } from 'node:http2';
import type { Http2Server } from 'node:http2';
import express from 'express';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import Koa from 'koa';
import { waitressProxy as expressProxy } from '@waitress-proxy/express';
import { waitressProxy as fastifyProxy } from '@waitress-proxy/fastify';
import { waitressProxy as koaProxy } from '@waitress-proxy/koa';
import type { ProxyLogger, ProxyView, WaitressProxyOptions } from '@waitress-proxy/core';

export type ShapeFramework = 'express' | 'fastify' | 'koa';

/** What an app saw: the framework's own getters, the adapter's view, the headers. */
export interface Seen {
  readonly clientAddress: string | undefined;
  readonly scheme: string;
  readonly host: string | undefined;
  readonly httpVersion: string;
  readonly view: ProxyView | undefined;
  readonly headers: Readonly<Record<string, unknown>>;
}

/** Where an app listens: a Unix socket, or h2c on 127.0.0.1 (a free port). */
export type Listen = { readonly path: string } | { readonly h2c: true };

export interface ShapeApp {
  /** The port, for `{ h2c: true }`. */
  readonly port: number;
  close(): Promise<void>;
}

/** A logger that keeps what it was told. */
export class RecordingLogger implements ProxyLogger {
  readonly messages: string[] = [];
  warn(message: string): void {
    this.messages.push(message);
  }
}

type AnyServer = Server | Http2Server;

async function listenOn(server: AnyServer, where: Listen): Promise<ShapeApp> {
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    const ready = (): void => {
      server.off('error', fail);
      done();
    };
    if ('path' in where) server.listen(where.path, ready);
    else server.listen(0, '127.0.0.1', ready);
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    close: () => {
      if ('closeAllConnections' in server) server.closeAllConnections();
      return new Promise((done) =>
        server.close(() => {
          done();
        }),
      );
    },
  };
}

/** Starts `framework`'s app with the adapter's `options`, listening as `where` says. */
export async function startShapeApp(
  framework: ShapeFramework,
  where: Listen,
  options: WaitressProxyOptions,
): Promise<ShapeApp> {
  switch (framework) {
    case 'express': {
      if (!('path' in where)) throw new Error('Express cannot serve HTTP/2');
      const app = express();
      app.use(expressProxy(options));
      app.get('/whoami', (req, res) => {
        const seen: Seen = {
          clientAddress: req.ip,
          scheme: req.protocol,
          host: req.get('host'),
          httpVersion: req.httpVersion,
          view: req.forwarded,
          headers: req.headers,
        };
        res.json(seen);
      });
      return listenOn(createServer(app), where);
    }
    case 'fastify': {
      // Fastify's instance type follows its server's; the route reads only
      // what every server's request has.
      const app = ('path' in where ? Fastify() : Fastify({ http2: true })) as FastifyInstance;
      await app.register(fastifyProxy, options);
      app.get('/whoami', (req): Seen => ({
        clientAddress: req.ip,
        scheme: req.protocol,
        host: req.host,
        httpVersion: req.raw.httpVersion,
        view: req.forwarded,
        headers: req.headers,
      }));
      // Fastify's own forms: listen({ path }) for a socket.
      if ('path' in where) await app.listen({ path: where.path });
      else await app.listen({ port: 0, host: '127.0.0.1' });
      const server: AnyServer = app.server;
      const address = server.address();
      return {
        port: typeof address === 'object' && address !== null ? address.port : 0,
        close: async () => {
          if ('closeAllConnections' in server) server.closeAllConnections();
          await app.close();
        },
      };
    }
    case 'koa': {
      const app = new Koa();
      app.silent = true;
      app.use(koaProxy(options));
      app.use((ctx) => {
        const seen: Seen = {
          clientAddress: ctx.ip,
          scheme: ctx.protocol,
          host: ctx.host,
          httpVersion: ctx.req.httpVersion,
          view: ctx.state.forwarded,
          headers: ctx.headers,
        };
        ctx.body = seen;
      });
      const handle = app.callback();
      // Koa's callback settles by itself (it answers its own errors).
      const server: AnyServer =
        'path' in where
          ? createServer((req, res) => {
              void handle(req, res);
            })
          : createH2cServer((req, res) => {
              void handle(req, res);
            });
      return listenOn(server, where);
    }
  }
}
