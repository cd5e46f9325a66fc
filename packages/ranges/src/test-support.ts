/**
 * For the tests: a real HTTP server on 127.0.0.1 that plays a provider,
 * serving the fixture files (the providers' real formats) or whatever a test
 * sets, and a client that connects from a chosen loopback address.
 */
import { readFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/** The text of `fixtures/<name>`. */
export function fixture(name: string): string {
  return readFileSync(join(__dirname, '..', 'fixtures', name), 'utf8');
}

/** How the list server answers one path. */
export interface Reply {
  status?: number;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** Send the headers, then never finish the body. */
  hang?: boolean;
  /** Stream this many bytes of `x` with no Content-Length. */
  streamBytes?: number;
}

export interface ListServer {
  /** `http://127.0.0.1:<port><path>`. */
  url(path: string): string;
  readonly origin: string;
  /** What `path` answers from now on. */
  set(path: string, reply: Reply | string): void;
  /** How many requests `path` received. */
  hits(path: string): number;
  close(): Promise<void>;
}

/** Starts a list server; unknown paths are 404. */
export async function startListServer(): Promise<ListServer> {
  const replies = new Map<string, Reply>();
  const counts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const reply = replies.get(path) ?? { status: 404, body: 'not found' };
    res.writeHead(reply.status ?? 200, reply.headers ?? { 'content-type': 'text/plain' });
    if (reply.hang === true) {
      res.write('173.245.48.0/20\n');
      return;
    }
    if (reply.streamBytes !== undefined) {
      const chunk = Buffer.alloc(64 * 1024, 'x');
      let sent = 0;
      const pump = () => {
        while (sent < (reply.streamBytes ?? 0)) {
          sent += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      res.on('error', () => undefined);
      pump();
      return;
    }
    res.end(reply.body ?? '');
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    url: (path) => `${origin}${path}`,
    set: (path, reply) => replies.set(path, typeof reply === 'string' ? { body: reply } : reply),
    hits: (path) => counts.get(path) ?? 0,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => {
          done();
        });
      }),
  };
}

/** A logger that keeps what it was told. */
export function recordingLogger(): { warn(message: string): void; warnings: string[] } {
  const warnings: string[] = [];
  return { warn: (message) => warnings.push(message), warnings };
}

/** Polls `condition` until it holds, or fails after `timeoutMs`. */
export async function until(what: string, condition: () => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 20));
  }
}

export interface Answer {
  status: number;
  body: string;
}

/** GET `url` from the loopback address `from`, with `headers`. */
export function get(url: string, from: string, headers: Record<string, string> = {}) {
  return new Promise<Answer>((resolve, reject) => {
    const req = request(url, { localAddress: from, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** What the test apps answer: the client address and the proxy headers that reached the app. */
export interface AppView {
  ip: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
}
