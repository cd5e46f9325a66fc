/**
 * Real sockets for the corpus, loopback only. Requests are written byte for
 * byte on a `net` connection (so repeated lines stay repeated and CR, LF or
 * NUL reach Node's parser as sent), from the case's 127.0.0.x peer address
 * with `localAddress`, to a server on 127.0.0.1, on `::ffff:127.0.0.1` (where
 * Node reports IPv4 peers as `::ffff:127.0.0.x`, as on `::`), or on a Unix
 * socket.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdversarialCase, Transport } from './corpus.js';
import { expectObservation } from './observe.js';
import type { Observation } from './observe.js';

/** Where a test server listens. */
export type Endpoint = { readonly port: number } | { readonly path: string };

/** Starts `server` for `transport` and returns where to reach it. */
export async function listen(server: Server, transport: Transport = 'ipv4'): Promise<Endpoint> {
  const path = join(tmpdir(), `waitress-proxy-${randomUUID()}.sock`);
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    const ready = () => {
      server.off('error', fail);
      done();
    };
    if (transport === 'unix') server.listen(path, ready);
    else server.listen(0, transport === 'ipv4' ? '127.0.0.1' : '::ffff:127.0.0.1', ready);
  });
  if (transport === 'unix') return { path };
  return { port: (server.address() as AddressInfo).port };
}

export async function close(server: Server, endpoint: Endpoint): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((done) =>
    server.close(() => {
      done();
    }),
  );
  if ('path' in endpoint) rmSync(endpoint.path, { force: true });
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * Sends `GET path` with `lines` (plus `Connection: close` unless present)
 * from `peer`, and reads the whole response.
 */
export async function sendRaw(
  endpoint: Endpoint,
  peer: string,
  lines: readonly (readonly [string, string])[],
  path = '/',
): Promise<RawResponse> {
  if (!/^127\.\d+\.\d+\.\d+$/.test(peer)) throw new Error(`refusing a non-loopback peer ${peer}`);
  const all = lines.some(([name]) => name.toLowerCase() === 'connection')
    ? lines
    : [...lines, ['Connection', 'close'] as const];
  const head = `GET ${path} HTTP/1.1\r\n${all.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
  const text = await new Promise<string>((done, fail) => {
    const socket =
      'path' in endpoint
        ? connect({ path: endpoint.path })
        : connect({ host: '127.0.0.1', port: endpoint.port, localAddress: peer });
    const chunks: Buffer[] = [];
    socket.on('connect', () => socket.end(head, 'latin1'));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // Node may reset the connection after answering a request it refused.
    socket.on('error', (error) => {
      if (chunks.length > 0) done(Buffer.concat(chunks).toString('utf8'));
      else fail(error);
    });
    socket.on('close', () => {
      done(Buffer.concat(chunks).toString('utf8'));
    });
  });
  return parseResponse(text);
}

function parseResponse(text: string): RawResponse {
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) throw new Error(`no HTTP response: ${JSON.stringify(text.slice(0, 200))}`);
  const [statusLine = '', ...headerLines] = text.slice(0, end).split('\r\n');
  const status = Number(statusLine.split(' ')[1]);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = text.slice(end + 4);
  if (headers['transfer-encoding'] === 'chunked') body = unchunk(body);
  return { status, headers, body };
}

function unchunk(body: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', at);
    const size = parseInt(body.slice(at, lineEnd), 16);
    if (!(size > 0)) return out;
    out += body.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}

/**
 * The app side of a socket runner: a server that installs the middleware with
 * `options` and answers each request that reaches the app with the JSON of an
 * `Observation` (`view` and `headers`), and each refused one with its status
 * and the error message in the body.
 */
export type ServerFactory = (
  options: AdversarialCase['options'],
  maxHeaderSize: number | undefined,
) => Server | Promise<Server>;

/** Node's three views of the request headers, as the app reads them. */
export interface NodeHeaderViews {
  readonly headers: Readonly<Record<string, unknown>>;
  readonly rawHeaders: readonly string[];
  /** Node builds it lazily from `rawHeaders` on first read (Node 18.3+). */
  readonly headersDistinct: Readonly<Record<string, readonly string[] | undefined>>;
}

/**
 * The body an app answers with: the view fields it can read and Node's
 * views of the headers (`headersDistinct` read here, after the middleware,
 * as an app would). A field that is undefined is sent as null, so "no client
 * port" is checked too rather than lost in JSON.
 */
export function observationBody(
  view: Readonly<Record<string, unknown>>,
  request: NodeHeaderViews,
): string {
  const { headers, rawHeaders, headersDistinct } = request;
  return JSON.stringify({ view, headers, rawHeaders, headersDistinct }, (_key, value: unknown) =>
    value === undefined ? null : value,
  );
}

function parseObservation(
  body: string,
): Pick<Observation, 'view' | 'headers' | 'rawHeaders' | 'headersDistinct'> {
  const parsed = JSON.parse(body) as {
    view: Record<string, unknown>;
    headers: Record<string, string | string[]>;
    rawHeaders: string[];
    headersDistinct: Record<string, string[]>;
  };
  const view: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(parsed.view)) {
    view[field] = value === null ? undefined : value;
  }
  return {
    view,
    headers: parsed.headers,
    rawHeaders: parsed.rawHeaders,
    headersDistinct: parsed.headersDistinct,
  };
}

/** Plays one case against the server `factory` builds, and checks the outcome. */
export async function runCaseOverSocket(c: AdversarialCase, factory: ServerFactory): Promise<void> {
  const server = await factory(c.options, c.maxHeaderSize);
  const endpoint = await listen(server, c.transport);
  try {
    const response = await sendRaw(endpoint, c.peer, c.headers);
    let seen: Observation;
    if (response.status === 200) {
      seen = { status: 200, ...parseObservation(response.body) };
    } else {
      seen = { status: response.status, body: response.body };
    }
    const localPort = 'port' in endpoint ? endpoint.port : undefined;
    expectObservation(c, seen, { localPort: localPort ?? 80 });
  } finally {
    await close(server, endpoint);
  }
}
