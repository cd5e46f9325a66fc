/**
 * Helpers for this package's tests (not exported, not built): a Fastify app
 * on a real socket, and requests to it from chosen 127.0.0.x source
 * addresses, so one loopback address plays the trusted proxy and another the
 * stranger. Traffic never leaves 127.0.0.0/8.
 */
import { request as httpRequest } from 'node:http';
import { connect as connectHttp2 } from 'node:http2';
import { connect as connectTcp } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { ProxyLogger } from '@waitress-proxy/core';

/** The proxy the tests trust. */
export const PROXY = '127.0.0.2';
/** A peer the tests do not trust. */
export const STRANGER = '127.0.0.3';

/** Where the app listens: the IPv4 loopback, or `::` (IPv4 peers then arrive IPv4-mapped). */
export type ListenHost = '127.0.0.1' | '::';

export interface Response {
  readonly status: number;
  readonly body: string;
  /** The body parsed as JSON. */
  readonly json: unknown;
}

/** A logger that keeps what it was told. */
export class RecordingLogger implements ProxyLogger {
  readonly messages: string[] = [];
  warn(message: string): void {
    this.messages.push(message);
  }
}

/** A pino destination for Fastify's `logger` option that keeps every line, parsed. */
export class LogLines extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line !== '') this.lines.push(JSON.parse(line) as Record<string, unknown>);
    }
    callback();
  }
}

export interface Sent {
  readonly peer: string;
  readonly path?: string;
  /** Raw header lines, name then value; `Host: app.example` unless given. */
  readonly lines?: readonly string[];
}

/** Starts `app` on an ephemeral port of `host` and returns the port. */
export async function listen(
  app: FastifyInstance,
  host: ListenHost = '127.0.0.1',
): Promise<number> {
  await app.listen({ port: 0, host });
  return (app.server.address() as AddressInfo).port;
}

/**
 * Sends one GET to 127.0.0.1:`port` from `peer` with the raw header `lines`
 * (`['X-Forwarded-For', '203.0.113.7', ...]`), sent as written: repeated
 * names stay repeated.
 */
export async function send(
  port: number,
  { peer, path = '/', lines = [] }: Sent,
): Promise<Response> {
  if (!peer.startsWith('127.')) throw new Error(`refusing to send from non-loopback ${peer}`);
  const hasHost = lines.some((name, i) => i % 2 === 0 && name.toLowerCase() === 'host');
  const headers = [...(hasHost ? [] : ['Host', 'app.example']), ...lines, 'Connection', 'close'];
  return new Promise<Response>((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, localAddress: peer, path, headers, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          let json: unknown;
          try {
            json = JSON.parse(body);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Starts `app`, sends each request in turn, closes `app`, and returns the responses. */
export async function exchangeAll(
  app: FastifyInstance,
  requests: readonly Sent[],
  listenHost: ListenHost = '127.0.0.1',
): Promise<Response[]> {
  const port = await listen(app, listenHost);
  try {
    const responses: Response[] = [];
    for (const request of requests) responses.push(await send(port, request));
    return responses;
  } finally {
    await app.close();
  }
}

/** Starts `app`, sends one request, closes `app`. */
export async function exchange(
  app: FastifyInstance,
  request: Sent & { readonly listenHost?: ListenHost },
): Promise<Response> {
  const [response] = await exchangeAll(app, [request], request.listenHost);
  if (response === undefined) throw new Error('no response');
  return response;
}

/**
 * Sends one h2c GET for `path` to 127.0.0.1:`port` from `peer` with
 * `headers`, and returns the body parsed as JSON.
 */
export async function getOverHttp2(
  port: number,
  peer: string,
  headers: Record<string, string>,
  path = '/',
): Promise<Record<string, unknown>> {
  if (!peer.startsWith('127.')) throw new Error(`refusing to send from non-loopback ${peer}`);
  const client = connectHttp2(`http://127.0.0.1:${port}`, {
    createConnection: () => connectTcp({ host: '127.0.0.1', port, localAddress: peer }),
  });
  try {
    const stream = client.request({ ':path': path, ...headers });
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (body += chunk));
    await new Promise<void>((resolve, reject) => {
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    return JSON.parse(body) as Record<string, unknown>;
  } finally {
    client.close();
  }
}
