/**
 * What an app saw of one request, read through its framework's own API after
 * the waitress-proxy adapter ran. Every app in the demo (and in the
 * reverse-proxy test suite, which starts these same apps) answers
 * `GET <prefix>/whoami` with this, and `GET <prefix>/go` with a redirect to
 * the absolute URL of `<prefix>/whoami` built from the request.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WaitressProxyOptions } from '@waitress-proxy/core';

export type Framework = 'express' | 'fastify' | 'koa';

export interface AppReport {
  readonly framework: Framework;
  /** `req.ip` / `request.ip` / `ctx.ip`. */
  readonly clientAddress: string | undefined;
  /** `req.protocol` / `request.protocol` / `ctx.protocol`. */
  readonly scheme: string;
  /** The host with its port, as the framework reports it. */
  readonly host: string | undefined;
  /** `req.hostname` / `request.hostname` / `ctx.hostname`. */
  readonly hostname: string | undefined;
  /** The port the client connected to (the adapter's view: no framework has a getter). */
  readonly port: number | undefined;
  /** The path prefix the app is mounted under (SCRIPT_NAME). */
  readonly prefix: string;
  /** The path the app's router matched. */
  readonly path: string;
  /** The absolute URL of this request, built from the framework's getters. */
  readonly url: string;
  /** The request headers that reached the app's handler. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** An app listening on loopback. */
export interface RunningApp {
  readonly framework: Framework;
  readonly port: number;
  close(): Promise<void>;
}

/** Starts one of the apps with the given adapter options. */
export type StartApp = (options: WaitressProxyOptions) => Promise<RunningApp>;

/** Where every app listens: loopback only, a free port chosen by the system. */
export const APP_HOST = '127.0.0.1';

/** Listens on `APP_HOST` and resolves once the port is known. */
export function listen(server: Server, framework: Framework): Promise<RunningApp> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, APP_HOST, () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      resolve({ framework, port, close: () => closeServer(server) });
    });
  });
}

/** Closes a server, dropping idle keep-alive connections (proxies pool them). */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => {
      if (error) reject(error);
      else resolve();
    });
    server.closeAllConnections();
  });
}
