/**
 * Real sockets, loopback only: servers listen on 127.0.0.1 or on `::` (where
 * Node reports IPv4 peers as `::ffff:127.0.0.x`), and requests go to
 * 127.0.0.1 from a chosen 127.0.0.x source address, so different loopback
 * addresses play the trusted proxy and the untrusted stranger.
 */
import { request } from 'node:http';
import type { Server } from 'node:http';
import { connect as connectH2 } from 'node:http2';
import type { Http2SecureServer, Http2Server, OutgoingHttpHeaders } from 'node:http2';
import { connect as connectTcp } from 'node:net';
import type { AddressInfo } from 'node:net';
import { connect as connectTls } from 'node:tls';

/** Where a test server listens: the address, or `::` (Node's default for `listen(port)`). */
export type ListenHost = '127.0.0.1' | '::';

/** Every request goes here, never anywhere else. */
const TARGET = '127.0.0.1';

/** A server the matrix runs on: HTTP/1.1, or HTTP/2 (h2c, or TLS with allowHTTP1). */
export type AnyServer = Server | Http2Server | Http2SecureServer;

/** Starts `server` on an ephemeral port and returns the port. */
export async function listen(server: AnyServer, host: ListenHost): Promise<number> {
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(0, host, () => {
      server.off('error', fail);
      done();
    });
  });
  return (server.address() as AddressInfo).port;
}

export async function close(server: AnyServer): Promise<void> {
  // HTTP/2 servers have no closeAllConnections; the client closes its session.
  if ('closeAllConnections' in server) server.closeAllConnections();
  await new Promise<void>((done, fail) => {
    server.close((err) => {
      if (err === undefined) done();
      else fail(err);
    });
  });
}

export interface Exchange {
  readonly status: number;
  readonly body: string;
}

/**
 * Sends one GET to 127.0.0.1:`port` from `peer` (a 127.0.0.x address).
 * `lines` are header lines as sent, `Name: value`, one per line, so a
 * repeated name stays repeated; they must include Host.
 */
export async function send(
  port: number,
  peer: string,
  path: string,
  lines: readonly string[],
): Promise<Exchange> {
  if (!peer.startsWith('127.')) throw new Error(`refusing to send from non-loopback ${peer}`);
  // Node sends an array of headers line by line, in order, as given.
  const rawHeaders = lines.flatMap((line) => {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`not a header line: ${line}`);
    return [line.slice(0, colon), line.slice(colon + 1).trim()];
  });
  return new Promise<Exchange>((done, fail) => {
    const req = request(
      {
        host: TARGET,
        port,
        localAddress: peer,
        path,
        method: 'GET',
        headers: [...rawHeaders, 'Connection', 'close'],
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

/** The Host a request sends when its lines do not give one. */
export const DEFAULT_HOST = 'app.example';

/** `lines` with `Host: app.example` in front, unless they hold a Host line. */
export function withHost(lines: readonly string[]): readonly string[] {
  const hasHost = lines.some((line) => /^host:/i.test(line));
  return hasHost ? lines : [`Host: ${DEFAULT_HOST}`, ...lines];
}

/**
 * `send` over HTTP/2: h2c, or TLS (ALPN h2) trusting `ca`. The `Host` line
 * becomes `:authority`, as an HTTP/2 client sends it (RFC 9113 section
 * 8.3.1: no Host beside it); repeated lines stay repeated fields.
 */
export async function sendH2(
  port: number,
  peer: string,
  path: string,
  lines: readonly string[],
  ca?: string,
): Promise<Exchange> {
  if (!peer.startsWith('127.')) throw new Error(`refusing to send from non-loopback ${peer}`);
  const headers: OutgoingHttpHeaders = { ':path': path, ':method': 'GET' };
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`not a header line: ${line}`);
    const lower = line.slice(0, colon).toLowerCase();
    const name = lower === 'host' ? ':authority' : lower;
    const value = line.slice(colon + 1).trim();
    const previous = headers[name];
    headers[name] =
      previous === undefined
        ? value
        : [...(Array.isArray(previous) ? previous : [String(previous)]), value];
  }
  const tcp = () => connectTcp({ host: TARGET, port, localAddress: peer });
  const client = connectH2(`${ca === undefined ? 'http' : 'https'}://localhost:${port}`, {
    createConnection: () =>
      ca === undefined
        ? tcp()
        : connectTls({ socket: tcp(), ca, servername: 'localhost', ALPNProtocols: ['h2'] }),
  });
  try {
    return await new Promise<Exchange>((done, fail) => {
      client.on('error', fail);
      const stream = client.request(headers);
      let status = 0;
      let body = '';
      stream.on('response', (head) => (status = Number(head[':status'])));
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (body += chunk));
      stream.on('end', () => {
        done({ status, body });
      });
      stream.on('error', fail);
    });
  } finally {
    client.close();
  }
}
