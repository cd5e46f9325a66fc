/**
 * What runs before Fastify's router, and so before any hook: the
 * `frameworkErrors` handler (a bad URL such as `GET /%zz`, a parameter over
 * `maxParamLength`), the 404 handler, and hooks added before the plugin.
 * Each must see the resolved view and none of a stranger's forged proxy
 * headers, over real sockets (HTTP/1.1 and h2c), through the app's own server
 * and through a `serverFactory` one.
 */
import { spawnSync } from 'node:child_process';
import { ServerResponse, createServer, request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { waitressProxy } from './index.js';
import type { WaitressProxyOptions } from './index.js';
import {
  LogLines,
  PROXY,
  RecordingLogger,
  STRANGER,
  exchange,
  exchangeAll,
  getOverHttp2,
} from './test-support.js';

const OPTIONS: WaitressProxyOptions = {
  trustedProxy: PROXY,
  trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto'],
};

/** A stranger's forged proxy headers, every kind, some repeated. */
const FORGED = [
  'X-Forwarded-For',
  '6.6.6.6',
  'X-Forwarded-Proto',
  'https',
  'X-Forwarded-Host',
  'evil.example',
  'x-forwarded-for',
  '6.6.6.7',
  'Forwarded',
  'for=6.6.6.6;host=evil.example;proto=https',
  'X-Forwarded-Port',
  '8443',
];

/** What the trusted proxy sends. */
const FROM_PROXY = [
  'X-Forwarded-For',
  '203.0.113.7',
  'X-Forwarded-Proto',
  'https',
  'X-Forwarded-Host',
  'shop.example',
];

const PROXY_NAMES = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded'];

/** What a handler of Fastify's can read of the request. */
function seen(request: FastifyRequest) {
  // Null where the plugin has not resolved the request (typed as always set).
  const forwarded = request.forwarded as FastifyRequest['forwarded'] | null;
  const headers: Record<string, unknown> = {};
  for (const name of [...PROXY_NAMES, 'x-forwarded-port', 'host']) {
    headers[name] = request.headers[name] ?? null;
  }
  return {
    ip: request.ip,
    protocol: request.protocol,
    host: request.host,
    hostname: request.hostname,
    clientAddress: forwarded?.clientAddress ?? null,
    peerTrusted: forwarded?.peerTrusted ?? null,
    headers,
    rawNames: request.raw.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase()),
  };
}

const STRANGER_VIEW = {
  ip: STRANGER,
  protocol: 'http',
  host: 'app.example',
  hostname: 'app.example',
  clientAddress: STRANGER,
  peerTrusted: false,
  headers: {
    'x-forwarded-for': null,
    'x-forwarded-proto': null,
    'x-forwarded-host': null,
    forwarded: null,
    'x-forwarded-port': null,
    host: 'app.example',
  },
  rawNames: ['host', 'connection'],
};

const PROXY_VIEW = {
  ip: '203.0.113.7',
  protocol: 'https',
  host: 'shop.example',
  hostname: 'shop.example',
  clientAddress: '203.0.113.7',
  peerTrusted: true,
};

/** frameworkErrors answering what it saw, with the error's code. */
function frameworkErrors(
  error: Error & { code?: string },
  request: FastifyRequest,
  reply: FastifyReply,
) {
  void reply.status(400).send({ code: error.code, ...seen(request) });
}

async function app(serverOptions: FastifyServerOptions = {}): Promise<FastifyInstance> {
  const fastify = Fastify({ frameworkErrors, ...serverOptions });
  await fastify.register(waitressProxy, { ...OPTIONS, logger: new RecordingLogger() });
  fastify.get('/user/:id', (request) => seen(request));
  return fastify;
}

describe('frameworkErrors (before the router and every hook)', () => {
  it('a bad URL from a stranger: the handler sees none of its forged proxy headers', async () => {
    const response = await exchange(await app(), { peer: STRANGER, path: '/%zz', lines: FORGED });
    expect(response.status).toBe(400);
    expect(response.json).toEqual({ code: 'FST_ERR_BAD_URL', ...STRANGER_VIEW });
  });

  it('a bad URL through the trusted proxy: the handler sees the resolved view', async () => {
    const response = await exchange(await app(), {
      peer: PROXY,
      path: '/%zz',
      lines: FROM_PROXY,
    });
    expect(response.json).toMatchObject({ code: 'FST_ERR_BAD_URL', ...PROXY_VIEW });
    expect(response.json).toMatchObject({ headers: { host: 'shop.example' } });
  });

  it('a parameter over maxParamLength from a stranger: the same', async () => {
    const response = await exchange(await app({ routerOptions: { maxParamLength: 4 } }), {
      peer: STRANGER,
      path: '/user/123456789',
      lines: FORGED,
    });
    expect(response.json).toEqual({ code: 'FST_ERR_MAX_PARAM_LENGTH', ...STRANGER_VIEW });
  });

  it('through a serverFactory server: the same', async () => {
    const fastify = await app({
      serverFactory: (handler) => createServer(handler),
    });
    const [stranger, proxy] = await exchangeAll(fastify, [
      { peer: STRANGER, path: '/%zz', lines: FORGED },
      { peer: PROXY, path: '/%zz', lines: FROM_PROXY },
    ]);
    expect(stranger!.json).toEqual({ code: 'FST_ERR_BAD_URL', ...STRANGER_VIEW });
    expect(proxy!.json).toMatchObject(PROXY_VIEW);
  });

  // Fastify listens on every address `localhost` resolves to, each on a
  // server of its own; where it is only 127.0.0.1 there is no second server.
  // Known before the tests are collected, so the case shows as skipped, not
  // passed, where there is no second server to check.
  const localhostHasIPv6 =
    spawnSync(
      process.execPath,
      [
        '-e',
        "require('node:dns').lookup('localhost', { all: true }, (e, a) => " +
          'process.stdout.write(String(!e && a.some((x) => x.family === 6))))',
      ],
      { encoding: 'utf8' },
    ).stdout === 'true';

  (localhostHasIPv6 ? it : it.skip)(
    'on the second address of `localhost` (Fastify’s secondary server for ::1): the same',
    async () => {
      const fastify = await app();
      await fastify.listen({ port: 0, host: 'localhost' });
      try {
        const port = (fastify.server.address() as AddressInfo).port;
        const body = await new Promise<string>((resolve, reject) => {
          const headers: string[] = ['Host', 'app.example', ...FORGED, 'Connection', 'close'];
          const req = httpRequest(
            { host: '::1', family: 6, port, path: '/%zz', headers, agent: false },
            (res) => {
              let text = '';
              res.setEncoding('utf8');
              res.on('data', (chunk: string) => (text += chunk));
              res.on('end', () => {
                resolve(text);
              });
            },
          );
          req.on('error', reject);
          req.end();
        });
        expect(JSON.parse(body)).toMatchObject({
          code: 'FST_ERR_BAD_URL',
          ip: '::1',
          protocol: 'http',
          host: 'app.example',
          headers: STRANGER_VIEW.headers,
        });
      } finally {
        await fastify.close();
      }
    },
  );

  it('a malformed header from the trusted proxy on a bad URL: frameworkErrors sees the direct connection', async () => {
    const response = await exchange(await app(), {
      peer: PROXY,
      path: '/%zz',
      lines: ['X-Forwarded-Proto', 'gopher', 'X-Forwarded-For', '6.6.6.6'],
    });
    expect(response.json).toMatchObject({
      code: 'FST_ERR_BAD_URL',
      ip: PROXY,
      protocol: 'http',
      headers: { 'x-forwarded-for': null, 'x-forwarded-proto': null, host: 'app.example' },
    });
  });

  it('the warning for a malformed header goes to the app’s logger when no hook ran', async () => {
    const log = new LogLines();
    const fastify = Fastify({ frameworkErrors, logger: { level: 'warn', stream: log } });
    await fastify.register(waitressProxy, OPTIONS);
    await exchange(fastify, {
      peer: PROXY,
      path: '/%zz',
      lines: ['X-Forwarded-Proto', 'gopher'],
    });
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: 40,
        msg: expect.stringContaining(
          `Malformed proxy header "X-Forwarded-Proto" from "${PROXY}"`,
        ) as unknown,
      }),
    );
  });
});

describe('the 404 handler and hooks added before the plugin', () => {
  it('setNotFoundHandler sees the resolved view, and no forged header', async () => {
    const fastify = await app();
    fastify.setNotFoundHandler((request, reply) => {
      void reply.status(404).send(seen(request));
    });
    const [stranger, proxy] = await exchangeAll(fastify, [
      { peer: STRANGER, path: '/nowhere', lines: FORGED },
      { peer: PROXY, path: '/nowhere', lines: FROM_PROXY },
    ]);
    expect(stranger!.json).toEqual(STRANGER_VIEW);
    expect(proxy!.json).toMatchObject(PROXY_VIEW);
  });

  it('an onRequest hook added before the plugin sees the resolved view', async () => {
    const fastify = Fastify();
    const before: unknown[] = [];
    fastify.addHook('onRequest', (request, _reply, done) => {
      before.push(seen(request));
      done();
    });
    await fastify.register(waitressProxy, { ...OPTIONS, logger: new RecordingLogger() });
    fastify.get('/', () => 'ok');
    await exchangeAll(fastify, [
      { peer: STRANGER, lines: FORGED },
      { peer: PROXY, lines: FROM_PROXY },
    ]);
    expect(before).toEqual([STRANGER_VIEW, expect.objectContaining(PROXY_VIEW)]);
  });
});

describe('over HTTP/2 (h2c)', () => {
  it('frameworkErrors sees no forged header from a stranger, and the resolved view from the proxy', async () => {
    const fastify = await app({ http2: true } as FastifyServerOptions);
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    const port = (fastify.server.address() as AddressInfo).port;
    const get = (peer: string, headers: Record<string, string>) =>
      getOverHttp2(port, peer, headers, '/%zz');
    try {
      const stranger = await get(STRANGER, {
        'x-forwarded-for': '6.6.6.6',
        'x-forwarded-host': 'evil.example',
        'x-forwarded-proto': 'https',
        forwarded: 'for=6.6.6.6',
      });
      expect(stranger).toMatchObject({
        code: 'FST_ERR_BAD_URL',
        ip: STRANGER,
        protocol: 'http',
        host: `127.0.0.1:${port}`,
        headers: {
          'x-forwarded-for': null,
          'x-forwarded-host': null,
          'x-forwarded-proto': null,
          forwarded: null,
        },
      });
      const proxy = await get(PROXY, {
        'x-forwarded-for': '203.0.113.7',
        'x-forwarded-host': 'shop.example',
        'x-forwarded-proto': 'https',
      });
      expect(proxy).toMatchObject({ code: 'FST_ERR_BAD_URL', ...PROXY_VIEW });
    } finally {
      await fastify.close();
    }
  });
});

describe("fastify.routing from an 'upgrade' handler (no 'request' event: the hook resolves)", () => {
  /**
   * Sends one upgrade request from `peer` over a raw socket, the header
   * `lines` as written, and returns the status and the JSON body of the
   * answer the app writes on the socket.
   */
  async function upgrade(
    port: number,
    peer: string,
    lines: readonly string[],
  ): Promise<{ status: number; json: unknown }> {
    if (!peer.startsWith('127.')) throw new Error(`refusing to send from non-loopback ${peer}`);
    const head = [
      'GET /user/7 HTTP/1.1',
      'Host: app.example',
      'Connection: Upgrade',
      'Upgrade: websocket',
    ];
    for (let i = 0; i + 1 < lines.length; i += 2) head.push(`${lines[i]}: ${lines[i + 1]}`);
    const text = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, localAddress: peer }, () => {
        socket.end(`${head.join('\r\n')}\r\n\r\n`);
      });
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (received += chunk));
      socket.on('end', () => {
        resolve(received);
      });
      socket.on('error', reject);
    });
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    return { status, json: JSON.parse(body) as unknown };
  }

  it('a stranger: no forged header reaches the route; the proxy: the resolved view; a malformed header: 400 through the error handler', async () => {
    const fastify = Fastify();
    const errors: unknown[] = [];
    // Before the route: a route keeps the error handler of its registration.
    fastify.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
      errors.push(error.message);
      void reply.status(error.statusCode ?? 500).send({ handled: error.message });
    });
    await fastify.register(waitressProxy, { ...OPTIONS, logger: new RecordingLogger() });
    fastify.get('/user/:id', (request) => seen(request));
    // Node hands an 'upgrade' listener the connection's net.Socket.
    fastify.server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      const res = new ServerResponse(req);
      res.assignSocket(socket);
      res.shouldKeepAlive = false;
      res.on('finish', () => socket.end());
      fastify.routing(req, res);
    });
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    const port = (fastify.server.address() as AddressInfo).port;
    try {
      const stranger = await upgrade(port, STRANGER, FORGED);
      expect(stranger.status).toBe(200);
      const { rawNames, ...view } = stranger.json as typeof STRANGER_VIEW;
      const { rawNames: _names, ...expected } = STRANGER_VIEW;
      expect(view).toEqual(expected);
      expect(rawNames).toEqual(['host', 'connection', 'upgrade']);

      const proxy = await upgrade(port, PROXY, FROM_PROXY);
      expect(proxy).toMatchObject({ status: 200, json: PROXY_VIEW });

      const malformed = await upgrade(port, PROXY, ['X-Forwarded-For', 'not an address']);
      expect(malformed.status).toBe(400);
      expect(errors).toEqual([expect.stringContaining('X-Forwarded-For')]);
    } finally {
      await fastify.close();
    }
  });
});
