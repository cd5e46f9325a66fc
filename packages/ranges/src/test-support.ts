/**
 * For the tests: a real HTTP server on 127.0.0.1 that plays a provider,
 * serving the fixture files (the providers' real formats) or whatever a test
 * sets, and a client that connects from a chosen loopback address.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import type { WaitressProxyOptions } from '@waitress-proxy/core';
import { waitressProxy as expressProxy } from '@waitress-proxy/express';
import { waitressProxy as fastifyProxy } from '@waitress-proxy/fastify';
import { waitressProxy as koaProxy } from '@waitress-proxy/koa';

/** The text of `fixtures/<name>`. */
export function fixture(name: string): string {
  return readFileSync(join(__dirname, '..', 'fixtures', name), 'utf8');
}

/** How a separate Node process running a script ended. */
export interface ScriptRun {
  /** Its exit code (null when it was killed). */
  code: number | null;
  /** Its stdout and stderr, trimmed. */
  output: string;
  /** When it last wrote to stdout (ms since the epoch; 0 if never). */
  loadedAt: number;
}

/**
 * Runs `script` (an ES module importing this package's sources) in a
 * separate Node process under tsx, killed after 60 s. Starting tsx on a
 * loaded machine takes a while; what the callers measure is the time
 * between the script's last output (the list loaded) and its exit.
 */
export async function runScript(script: string): Promise<ScriptRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, TSX_TSCONFIG_PATH: join(__dirname, '..', '..', '..', 'tsconfig.json') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let loadedAt = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    loadedAt = Date.now();
  });
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((done) => child.once('exit', done));
  clearTimeout(killer);
  return { code, output: output.trim(), loadedAt };
}

/** How the list server answers one path. */
export interface Reply {
  status?: number;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** Send the headers, then never finish the body. */
  hang?: boolean;
  /** Answer after this many ms. */
  delayMs?: number;
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
    if (reply.delayMs !== undefined) {
      setTimeout(() => {
        answer(reply, res);
      }, reply.delayMs);
      return;
    }
    answer(reply, res);
  });
  const answer = (reply: Reply, res: ServerResponse): void => {
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
  };
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

/** An app on 127.0.0.1 that answers `GET /` with an {@link AppView}. */
export interface RunningApp {
  url: string;
  close(): Promise<void>;
}

/** The client-address headers the apps report, wherever they still are. */
export const CLIENT_IP_HEADERS = [
  'cf-connecting-ip',
  'true-client-ip',
  'x-real-ip',
  'x-forwarded-for',
];

/** What each app answers: the client address and the client-address headers that reached it. */
function view(ip: string, headers: AppView['headers'], rawHeaders: string[]): AppView {
  const raw: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    if (CLIENT_IP_HEADERS.includes(name.toLowerCase()))
      raw.push(`${name}: ${rawHeaders[i + 1] ?? ''}`);
  }
  return {
    ip,
    headers: Object.fromEntries(
      CLIENT_IP_HEADERS.filter((name) => headers[name] !== undefined).map((name) => [
        name,
        headers[name],
      ]),
    ),
    rawHeaders: raw,
  };
}

async function listen(server: Server): Promise<RunningApp> {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => {
          done();
        });
      }),
  };
}

/** Starts an Express, Koa or Fastify app with the adapter's options. */
export const START: Record<string, (options: WaitressProxyOptions) => Promise<RunningApp>> = {
  express: (options) => {
    const app = express();
    app.use(expressProxy(options));
    app.get('/', (req, res) => {
      res.json(view(req.ip ?? '', req.headers, req.rawHeaders));
    });
    app.use(
      (err: Error & { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
        res.status(err.status ?? 500).json({ error: err.message });
      },
    );
    return listen(createServer(app));
  },
  koa: (options) => {
    const app = new Koa();
    app.use(async (ctx, next) => {
      try {
        await next();
      } catch (error) {
        const err = error as Error & { status?: number };
        ctx.status = err.status ?? 500;
        ctx.body = { error: err.message };
      }
    });
    app.use(koaProxy(options));
    app.use((ctx) => {
      ctx.body = view(ctx.ip, ctx.req.headers, ctx.req.rawHeaders);
    });
    const handle = app.callback();
    return listen(
      createServer((req, res) => {
        void handle(req, res);
      }),
    );
  },
  fastify: async (options) => {
    const app = Fastify();
    await app.register(fastifyProxy, options);
    app.get('/', (request) => view(request.ip, request.headers, request.raw.rawHeaders));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}/`, close: () => app.close() };
  },
};
