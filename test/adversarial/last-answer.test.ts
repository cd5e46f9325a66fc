/**
 * The engine keeps the last answer for the peer address, the forwarded host,
 * the Host name and the trust of a peer (core's keepLast): behind a proxy they
 * repeat from request to request. An attacker who alternates with the proxy,
 * from another peer or with another host, must never get the answer the last
 * request got: over real sockets, requests from a trusted proxy and from a
 * stranger, with hosts that are valid, invalid and absent, are interleaved,
 * and each gets its own view and its own header rewrite, in all three
 * frameworks.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { waitressProxy as expressProxy } from '@waitress-proxy/express';
import { waitressProxy as fastifyProxy } from '@waitress-proxy/fastify';
import { waitressProxy as koaProxy } from '@waitress-proxy/koa';
import type { WaitressProxyOptions } from '@waitress-proxy/core';
import { close, listen, sendRaw } from './wire.js';
import type { Endpoint } from './wire.js';

const PROXY = '127.0.0.5';
const STRANGER = '127.0.0.6';

const options: WaitressProxyOptions = {
  trustedProxy: PROXY,
  trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'],
  logger: { warn: () => undefined },
};

/** The Host line as the app's raw headers hold it after the middleware. */
function rawHost(req: IncomingMessage): string | undefined {
  const index = req.rawHeaders.findIndex((name) => name.toLowerCase() === 'host');
  return index === -1 ? undefined : req.rawHeaders[index + 1];
}

type Started = { server: Server; stop?: () => Promise<void> };

const apps: Record<string, () => Promise<Started>> = {
  express: () => {
    const app = express();
    app.use(expressProxy(options));
    app.use((req, res) => {
      res.json({ ip: req.ip, protocol: req.protocol, hostname: req.hostname, raw: rawHost(req) });
    });
    app.use(
      (err: Error & { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
        res.status(err.status ?? 500).json({ error: err.message });
      },
    );
    return Promise.resolve({ server: createServer(app) });
  },
  koa: () => {
    const app = new Koa();
    app.use(koaProxy(options));
    app.use((ctx) => {
      ctx.body = {
        ip: ctx.ip,
        protocol: ctx.protocol,
        hostname: ctx.hostname,
        raw: rawHost(ctx.req),
      };
    });
    const handler = app.callback();
    return Promise.resolve({
      server: createServer((req, res) => {
        void handler(req, res);
      }),
    });
  },
  fastify: async () => {
    const app = Fastify();
    await app.register(fastifyProxy, options);
    app.get('/', (request) => ({
      ip: request.ip,
      protocol: request.protocol,
      hostname: request.hostname,
      raw: rawHost(request.raw),
    }));
    await app.ready();
    return { server: app.server, stop: () => app.close() };
  },
};

const forwarded = (host: string): [string, string][] => [
  ['Host', 'direct.example'],
  ['X-Forwarded-For', '198.51.100.7'],
  ['X-Forwarded-Proto', 'https'],
  ['X-Forwarded-Host', host],
];

/** Peer, header lines, and what the app must answer (a view, or a status). */
const SEQUENCE: [string, [string, string][], Record<string, unknown> | number][] = [
  [
    PROXY,
    forwarded('a.example:8443'),
    { ip: '198.51.100.7', protocol: 'https', hostname: 'a.example', raw: 'a.example:8443' },
  ],
  [
    STRANGER,
    forwarded('a.example:8443'),
    { ip: STRANGER, protocol: 'http', hostname: 'direct.example', raw: 'direct.example' },
  ],
  [
    PROXY,
    forwarded('a.example:8443'),
    { ip: '198.51.100.7', protocol: 'https', hostname: 'a.example', raw: 'a.example:8443' },
  ],
  [PROXY, forwarded('evil.example/x'), 400],
  [
    PROXY,
    forwarded('a.example:8443'),
    { ip: '198.51.100.7', protocol: 'https', hostname: 'a.example', raw: 'a.example:8443' },
  ],
  [PROXY, forwarded('a.example:0'), 400],
  [
    STRANGER,
    [['Host', 'b.example:81']],
    { ip: STRANGER, protocol: 'http', hostname: 'b.example', raw: 'b.example:81' },
  ],
  [
    PROXY,
    [
      ['HOST', 'b.example:81'],
      ['X-Forwarded-Host', 'c.example'],
    ],
    { ip: PROXY, protocol: 'http', hostname: 'c.example', raw: 'c.example' },
  ],
  [
    STRANGER,
    [['Host', 'b.example:81']],
    { ip: STRANGER, protocol: 'http', hostname: 'b.example', raw: 'b.example:81' },
  ],
  [
    PROXY,
    forwarded('a.example:8443'),
    { ip: '198.51.100.7', protocol: 'https', hostname: 'a.example', raw: 'a.example:8443' },
  ],
];

describe.each(Object.keys(apps))('%s: requests that alternate with the proxy', (name) => {
  let server: Server;
  let endpoint: Endpoint;
  let stop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const started = await (apps[name] as () => Promise<Started>)();
    server = started.server;
    stop = started.stop;
    endpoint = await listen(server);
  });
  afterAll(async () => {
    if (stop !== undefined) await stop();
    else await close(server, endpoint);
  });

  it('each request gets its own view and Host, in two rounds of the sequence', async () => {
    for (let round = 0; round < 2; round++) {
      for (const [index, [peer, lines, expected]] of SEQUENCE.entries()) {
        const response = await sendRaw(endpoint, peer, lines);
        const seen =
          typeof expected === 'number' ? response.status : (JSON.parse(response.body) as unknown);
        expect({ round, index, seen }).toEqual({ round, index, seen: expected });
      }
    }
  });
});
