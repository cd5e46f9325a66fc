/**
 * Real Koa apps on real sockets, loopback only. Apps listen on 127.0.0.1, or
 * on `::` (where Node reports IPv4 peers as `::ffff:127.0.0.x`); requests go
 * to 127.0.0.1 from a chosen 127.0.0.x source address, so different loopback
 * addresses play the trusted proxy and the untrusted stranger.
 */
import { request } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import type { Context } from 'koa';
import Koa2 from 'koa2';
import type { ProxyLogger } from '@waitress-proxy/core';

/**
 * Koa 2 and Koa 3, as the tests run them. Koa 2 is typed with Koa 3's types
 * here: the tests read the same properties on both, and `typings.test.ts`
 * checks the middleware against Koa 2's own types.
 */
export const KOA_VERSIONS: readonly (readonly [string, typeof Koa])[] = [
  ['Koa 2', Koa2 as unknown as typeof Koa],
  ['Koa 3', Koa],
];

/** Trusted proxy in these tests. */
export const PROXY = '127.0.0.2';
/** A peer nobody trusts. */
export const STRANGER = '127.0.0.3';

/** Every request goes here, never anywhere else. */
const TARGET = '127.0.0.1';

export type ListenHost = '127.0.0.1' | '::';

export interface Running {
  readonly port: number;
  close(): Promise<void>;
}

/** Starts `app` (Koa 2 or 3, any state) with `app.listen` on an ephemeral port of `host`. */
export async function start(
  app: Pick<Koa, 'listen'>,
  host: ListenHost = '127.0.0.1',
): Promise<Running> {
  const server = await new Promise<Server>((done, fail) => {
    const listening: Server = app.listen(0, host, () => {
      listening.off('error', fail);
      done(listening);
    });
    listening.once('error', fail);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((done, fail) => {
        server.closeAllConnections();
        server.close((err) => {
          if (err === undefined) done();
          else fail(err);
        });
      }),
  };
}

export interface Exchange {
  readonly status: number;
  readonly body: string;
}

/**
 * Sends one GET to 127.0.0.1:`port` from `peer`. `rawHeaders` is a flat
 * name, value, ... list sent line by line (repeated names stay repeated); a
 * `Host` line is added first when it has none.
 */
export async function send(
  port: number,
  peer: string,
  path: string,
  rawHeaders: readonly string[] = [],
): Promise<Exchange> {
  if (!peer.startsWith('127.')) throw new Error(`refusing to send from non-loopback ${peer}`);
  const hasHost = rawHeaders.some((value, i) => i % 2 === 0 && value.toLowerCase() === 'host');
  const headers = hasHost ? [...rawHeaders] : ['Host', 'app.internal', ...rawHeaders];
  return new Promise<Exchange>((done, fail) => {
    const req = request(
      {
        host: TARGET,
        port,
        localAddress: peer,
        path,
        method: 'GET',
        headers: [...headers, 'Connection', 'close'],
        setHost: false,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          done({ status: res.statusCode ?? 0, body });
        });
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.end();
  });
}

/** What a handler after the middleware sees, as JSON. */
export interface Seen {
  readonly ip: string;
  readonly ips: string[];
  readonly protocol: string;
  readonly secure: boolean;
  readonly host: string;
  readonly hostname: string;
  readonly origin: string | null;
  readonly href: string;
  readonly URL: string;
  readonly path: string;
  readonly url: string;
  readonly originalUrl: string;
  readonly headers: Record<string, unknown>;
  readonly rawHeaders: string[];
  readonly forwarded: unknown;
  readonly requestForwarded: unknown;
}

/** Reads everything the middleware promises, from `ctx`. */
export function seen(ctx: Context): Seen {
  return {
    ip: ctx.ip,
    ips: ctx.ips,
    protocol: ctx.protocol,
    secure: ctx.secure,
    host: ctx.host,
    hostname: ctx.hostname,
    origin: ctx.origin,
    href: ctx.href,
    URL: ctx.URL.href,
    path: ctx.path,
    url: ctx.url,
    originalUrl: ctx.originalUrl,
    headers: { ...ctx.headers },
    rawHeaders: [...ctx.req.rawHeaders],
    forwarded: ctx.state.forwarded,
    requestForwarded: ctx.request.forwarded,
  };
}

/** Collects warnings instead of printing them. */
export function quietLogger(): ProxyLogger & { readonly lines: string[] } {
  const lines: string[] = [];
  return { lines, warn: (message: string) => void lines.push(message) };
}

/** The raw header lines minus the ones every request here has. */
export function proxyLines(rawHeaders: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    if (name.toLowerCase() === 'connection') continue;
    out.push(name, rawHeaders[i + 1] ?? '');
  }
  return out;
}
