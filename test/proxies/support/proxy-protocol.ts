/**
 * The apps and the proxies of test/proxies/proxy-protocol.test.ts: each
 * framework's app on a server that `acceptProxyProtocol` reads, as the
 * package README writes it, and nginx's stream module, which needs a whole
 * configuration of its own (a `stream` block cannot go inside `http`).
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { waitressProxy as expressProxy } from '@waitress-proxy/express';
import { waitressProxy as fastifyProxy } from '@waitress-proxy/fastify';
import { waitressProxy as koaProxy } from '@waitress-proxy/koa';
import type { ProxyView, WaitressProxyOptions } from '@waitress-proxy/core';
import { acceptProxyProtocol } from '@waitress-proxy/proxy-protocol';
import type { ProxyProtocolOptions } from '@waitress-proxy/proxy-protocol';
import type { Framework } from '../../../examples/demo/src/apps/index.js';
import { closeServer } from '../../../examples/demo/src/apps/report.js';
import { SERVER_NAME, waitFor } from './client.js';
import { freePort } from './ports.js';
import { startDaemon } from './processes.js';
import type { Daemon } from './processes.js';
import { findBinary } from './proxies.js';
import type { Workspace } from './proxies.js';
import { renderExample } from './templates.js';

/** What an app behind a PROXY-protocol load balancer saw of one request. */
export interface PeerReport {
  readonly framework: Framework;
  /** `req.ip` / `request.ip` / `ctx.ip`. */
  readonly clientAddress: string | undefined;
  readonly scheme: string;
  /** The view's peer: the PROXY header's client when one was read. */
  readonly peerAddress: string | undefined;
  /** The load balancer's own address: the socket's peer. */
  readonly socketAddress: string | undefined;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface PeerApp {
  readonly framework: Framework;
  readonly port: number;
  /** How many requests reached the app's handler so far. */
  handled(): number;
  close(): Promise<void>;
}

function report(
  framework: Framework,
  clientAddress: string | undefined,
  scheme: string,
  view: ProxyView | undefined,
  socketAddress: string | undefined,
  headers: PeerReport['headers'],
): PeerReport {
  return {
    framework,
    clientAddress,
    scheme,
    peerAddress: view?.peerAddress,
    socketAddress,
    headers,
  };
}

function listen(server: Server, framework: Framework, handled: () => number): Promise<PeerApp> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      resolve({ framework, port, handled, close: () => closeServer(server) });
    });
  });
}

/** Starts `framework`'s app, answering `GET /whoami` with a `PeerReport`. */
export async function startPeerApp(
  framework: Framework,
  options: WaitressProxyOptions,
  proxyProtocol: ProxyProtocolOptions,
): Promise<PeerApp> {
  let count = 0;
  const handled = (): number => count;
  switch (framework) {
    case 'express': {
      const app = express();
      app.use(expressProxy(options));
      app.get('/whoami', (req, res) => {
        count++;
        res.json(
          report(
            'express',
            req.ip,
            req.protocol,
            req.forwarded,
            req.socket.remoteAddress,
            req.headers,
          ),
        );
      });
      return listen(acceptProxyProtocol(createServer(app), proxyProtocol), 'express', handled);
    }
    case 'koa': {
      const app = new Koa();
      app.silent = true;
      app.use(koaProxy(options));
      app.use((ctx) => {
        count++;
        ctx.body = report(
          'koa',
          ctx.ip,
          ctx.protocol,
          ctx.state.forwarded,
          ctx.req.socket.remoteAddress,
          ctx.headers,
        );
      });
      const handle = app.callback();
      const server = createServer((req, res) => {
        void handle(req, res);
      });
      return listen(acceptProxyProtocol(server, proxyProtocol), 'koa', handled);
    }
    case 'fastify': {
      // Fastify creates its server itself: the reader goes on through serverFactory.
      const app = Fastify({
        serverFactory: (handler) => acceptProxyProtocol(createServer(handler), proxyProtocol),
      });
      await app.register(fastifyProxy, options);
      app.get('/whoami', (request, reply) => {
        count++;
        return reply.send(
          report(
            'fastify',
            request.ip,
            request.protocol,
            request.forwarded,
            request.raw.socket.remoteAddress,
            request.headers,
          ),
        );
      });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = app.server.address() as AddressInfo;
      return {
        framework: 'fastify',
        port,
        handled,
        close: async () => {
          app.server.closeAllConnections();
          await app.close();
        },
      };
    }
  }
}

/** Debian's nginx modules (libnginx-mod-stream puts ngx_stream_module.so there). */
export const NGINX_MODULES = '/usr/lib/nginx/modules';

/** Whether nginx's stream module is installed. */
export function hasNginxStream(): boolean {
  return existsSync(join(NGINX_MODULES, 'ngx_stream_module.so'));
}

/** A load balancer started from an example. */
export interface StartedBalancer {
  readonly port: number;
  readonly daemon: Daemon;
}

/** Renders the complete nginx configuration `site` and starts nginx on a free port. */
export async function startNginxStream(
  workspace: Workspace,
  site: string,
  upstreamPort: number,
): Promise<StartedBalancer> {
  const binary = findBinary('nginx');
  if (binary === undefined) throw new Error('nginx is not installed');
  const state = workspace.folder('nginx-stream');
  const port = await freePort();
  const config = renderExample(site, state, {
    PROXY_ADDRESS: '127.0.0.1',
    PROXY_PORT: String(port),
    APP_PORT: String(upstreamPort),
    SERVER_NAME,
    STATE_DIR: state,
    NGINX_MODULES,
  });
  const daemon = startDaemon('nginx', binary, ['-e', 'stderr', '-p', state, '-c', config]);
  await waitFor(
    `nginx stream on 127.0.0.1:${port}`,
    async () => {
      if (daemon.exited) throw new Error('it exited');
      await new Promise<void>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port });
        socket.once('connect', () => {
          socket.destroy();
          resolve();
        });
        socket.once('error', reject);
      });
    },
    15_000,
    () => `nginx said:\n${daemon.output()}`,
  );
  return { port, daemon };
}
