/**
 * The plugin in a real Fastify 5 app over real loopback sockets: what the
 * request properties say in hooks and handlers, which headers remain, the
 * 400 path, encapsulation, and the start-up checks.
 */
import type { Server } from 'node:http';
import Fastify from 'fastify';
import type { FastifyHttpOptions, FastifyInstance, FastifyRequest } from 'fastify';
import { MalformedProxyHeaderError, WaitressProxyConfigError, waitressProxy } from './index.js';
import type { WaitressProxyOptions } from './index.js';
import {
  LogLines,
  PROXY,
  RecordingLogger,
  STRANGER,
  exchange,
  exchangeAll,
} from './test-support.js';
import type { ListenHost } from './test-support.js';

/** nginx-style: the X-Forwarded-* headers from the proxy at 127.0.0.2. */
const X_FORWARDED: WaitressProxyOptions = {
  trustedProxy: PROXY,
  trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto'],
};

/** What a handler or hook reads through Fastify's own request API. */
function seen(request: FastifyRequest) {
  return {
    ip: request.ip,
    ips: request.ips,
    protocol: request.protocol,
    host: request.host,
    hostname: request.hostname,
    port: request.port,
    hostHeader: request.headers.host,
  };
}

/** jest's asymmetric matchers, typed for use inside expected values. */
const containing = (object: object): unknown => expect.objectContaining(object);
const including = (text: string): unknown => expect.stringContaining(text);
const anyString: unknown = expect.any(String);

/** The raw header lines named `name` (any case), as values. */
function rawLines(rawHeaders: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === name) values.push(rawHeaders[i + 1]!);
  }
  return values;
}

/** An app with the plugin whose every GET answers what the request looks like. */
async function observingApp(
  options: WaitressProxyOptions,
  serverOptions: FastifyHttpOptions<Server> = {},
): Promise<FastifyInstance> {
  const app = Fastify(serverOptions);
  await app.register(waitressProxy, { logger: new RecordingLogger(), ...options });
  app.get('/*', (request) => ({
    ...seen(request),
    forwarded: request.forwarded,
    headers: request.headers,
    rawHeaders: request.raw.rawHeaders,
  }));
  return app;
}

interface Observed extends ReturnType<typeof seen> {
  forwarded: FastifyRequest['forwarded'];
  headers: Record<string, string>;
  rawHeaders: string[];
}

async function observe(
  options: WaitressProxyOptions,
  peer: string,
  lines: readonly string[],
  listenHost: ListenHost = '127.0.0.1',
): Promise<Observed> {
  const app = await observingApp(options);
  const response = await exchange(app, { peer, lines, listenHost });
  expect(response.status).toBe(200);
  return response.json as Observed;
}

describe('what the app sees from a trusted proxy', () => {
  it('request.ip, ips, protocol, host, hostname, port and headers.host follow the X-Forwarded-* headers', async () => {
    const observed = await observe(X_FORWARDED, PROXY, [
      'X-Forwarded-For',
      '203.0.113.7',
      'X-Forwarded-Proto',
      'https',
      'X-Forwarded-Host',
      'shop.example',
    ]);
    expect(observed).toMatchObject({
      ip: '203.0.113.7',
      ips: ['203.0.113.7'],
      protocol: 'https',
      host: 'shop.example',
      hostname: 'shop.example',
      port: 443,
      hostHeader: 'shop.example',
    });
    expect(observed.forwarded).toMatchObject({
      clientAddress: '203.0.113.7',
      scheme: 'https',
      host: 'shop.example',
      peerAddress: PROXY,
      peerTrusted: true,
    });
  });

  it('a forwarded host with a port gives request.port and keeps the port in request.host', async () => {
    const observed = await observe(X_FORWARDED, PROXY, [
      'X-Forwarded-Host',
      'shop.example:8443',
      'X-Forwarded-Proto',
      'https',
    ]);
    expect(observed).toMatchObject({
      host: 'shop.example:8443',
      hostname: 'shop.example',
      port: 8443,
      hostHeader: 'shop.example:8443',
    });
  });

  it('the Forwarded header (RFC 7239) gives the client, proto and host', async () => {
    const observed = await observe(
      { trustedProxy: PROXY, trustedProxyHeaders: 'forwarded' },
      PROXY,
      ['Forwarded', 'for="[2001:db8::7]:4711";proto=https;host=shop.example'],
    );
    expect(observed).toMatchObject({
      ip: '2001:db8::7',
      ips: ['2001:db8::7'],
      protocol: 'https',
      host: 'shop.example',
      hostname: 'shop.example',
    });
    expect(observed.forwarded.clientPort).toBe(4711);
  });

  it('only the trusted window counts: with trustedProxyCount 2 the second-newest address is the client', async () => {
    const observed = await observe({ ...X_FORWARDED, trustedProxyCount: 2 }, PROXY, [
      'X-Forwarded-For',
      '6.6.6.6, 203.0.113.7, 10.0.0.9',
    ]);
    expect(observed).toMatchObject({ ip: '203.0.113.7', ips: ['203.0.113.7', '10.0.0.9'] });
    // What the client wrote before the window is gone, in both views of the headers.
    expect(observed.headers['x-forwarded-for']).toBe('203.0.113.7, 10.0.0.9');
    expect(rawLines(observed.rawHeaders, 'x-forwarded-for')).toEqual(['203.0.113.7, 10.0.0.9']);
  });

  it('a proxy header the proxy is not trusted for is removed from headers and rawHeaders', async () => {
    const observed = await observe(X_FORWARDED, PROXY, [
      'X-Forwarded-For',
      '203.0.113.7',
      'X-Forwarded-Port',
      '8080',
      'Forwarded',
      'for=6.6.6.6',
    ]);
    expect(observed.port).toBeGreaterThan(0);
    expect(observed.port).not.toBe(8080);
    expect(observed.headers['x-forwarded-port']).toBeUndefined();
    expect(observed.headers.forwarded).toBeUndefined();
    expect(rawLines(observed.rawHeaders, 'x-forwarded-port')).toEqual([]);
    expect(rawLines(observed.rawHeaders, 'forwarded')).toEqual([]);
    expect(rawLines(observed.rawHeaders, 'x-forwarded-for')).toEqual(['203.0.113.7']);
  });
});

describe('what the app sees from an untrusted peer', () => {
  const forged = [
    'X-Forwarded-For',
    '203.0.113.66',
    'X-Forwarded-Proto',
    'https',
    'X-Forwarded-Host',
    'evil.example',
    'x-forwarded-for',
    '198.51.100.1',
    'Forwarded',
    'for=203.0.113.66;host=evil.example;proto=https',
  ];

  it('forged proxy headers change nothing: the peer is the client', async () => {
    const observed = await observe(X_FORWARDED, STRANGER, forged);
    expect(observed).toMatchObject({
      ip: STRANGER,
      ips: [],
      protocol: 'http',
      host: 'app.example',
      hostname: 'app.example',
      hostHeader: 'app.example',
    });
    expect(observed.forwarded.peerTrusted).toBe(false);
  });

  it('forged proxy headers are removed from request.headers and request.raw.rawHeaders, every line of them', async () => {
    const observed = await observe(X_FORWARDED, STRANGER, forged);
    for (const name of ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded']) {
      expect({ [name]: observed.headers[name] }).toEqual({ [name]: undefined });
      expect({ [name]: rawLines(observed.rawHeaders, name) }).toEqual({ [name]: [] });
    }
    expect(rawLines(observed.rawHeaders, 'host')).toEqual(['app.example']);
  });

  it('clearUntrustedProxyHeaders: false leaves them in place, still unused', async () => {
    const observed = await observe(
      { ...X_FORWARDED, clearUntrustedProxyHeaders: false },
      STRANGER,
      forged,
    );
    expect(observed.ip).toBe(STRANGER);
    expect(observed.headers['x-forwarded-host']).toBe('evil.example');
    expect(rawLines(observed.rawHeaders, 'x-forwarded-for')).toEqual([
      '203.0.113.66',
      '198.51.100.1',
    ]);
  });
});

describe('IPv4-mapped peers (server listening on ::)', () => {
  it('an IPv4 trustedProxy matches the proxy Node reports as ::ffff:127.0.0.2', async () => {
    const observed = await observe(
      X_FORWARDED,
      PROXY,
      ['X-Forwarded-For', '203.0.113.7', 'X-Forwarded-Proto', 'https'],
      '::',
    );
    expect(observed).toMatchObject({ ip: '203.0.113.7', protocol: 'https' });
    expect(observed.forwarded).toMatchObject({ peerAddress: PROXY, peerTrusted: true });
  });

  it('an untrusted IPv4-mapped peer is shown as plain IPv4', async () => {
    const observed = await observe(
      X_FORWARDED,
      STRANGER,
      ['X-Forwarded-For', '203.0.113.66'],
      '::',
    );
    expect(observed).toMatchObject({ ip: STRANGER, ips: [] });
  });
});

describe('hooks, handlers and encapsulation', () => {
  const lines = ['X-Forwarded-For', '203.0.113.7', 'X-Forwarded-Proto', 'https'];

  it('every hook after the plugin, and the handler, see the rewritten values', async () => {
    const app = Fastify();
    await app.register(waitressProxy, { ...X_FORWARDED, logger: new RecordingLogger() });
    const stages: Record<string, unknown> = {};
    app.addHook('onRequest', (request, _reply, done) => {
      stages.onRequest = seen(request);
      done();
    });
    app.addHook('preParsing', (request, _reply, payload, done) => {
      stages.preParsing = seen(request);
      done(null, payload);
    });
    app.addHook('preValidation', (request, _reply, done) => {
      stages.preValidation = seen(request);
      done();
    });
    app.addHook('preHandler', (request, _reply, done) => {
      stages.preHandler = seen(request);
      done();
    });
    app.get('/', (request) => ({ ...stages, handler: seen(request) }));
    const response = await exchange(app, { peer: PROXY, lines });
    const expected = { ip: '203.0.113.7', ips: ['203.0.113.7'], protocol: 'https', port: 443 };
    expect(response.json).toEqual({
      onRequest: containing(expected),
      preParsing: containing(expected),
      preValidation: containing(expected),
      preHandler: containing(expected),
      handler: containing(expected),
    });
  });

  it('an encapsulated child plugin registered after it sees the rewritten values', async () => {
    const app = Fastify();
    await app.register(waitressProxy, { ...X_FORWARDED, logger: new RecordingLogger() });
    await app.register(
      (child, _options, done) => {
        // A child that decorates requests gets its own Request class.
        child.decorateRequest('tenant', 'none');
        child.get('/child', (request) => ({
          ...seen(request),
          clientAddress: request.forwarded.clientAddress,
        }));
        done();
      },
      { prefix: '/api' },
    );
    const response = await exchange(app, { peer: PROXY, path: '/api/child', lines });
    expect(response.json).toMatchObject({
      ip: '203.0.113.7',
      protocol: 'https',
      clientAddress: '203.0.113.7',
    });
  });

  it('routes of a child registered before it follow the proxy too (Fastify adds hooks to existing children)', async () => {
    const app = Fastify();
    await app.register((earlier, _options, done) => {
      earlier.decorateRequest('tenant', 'none');
      earlier.get('/earlier', (request) => seen(request));
      done();
    });
    await app.register(waitressProxy, { ...X_FORWARDED, logger: new RecordingLogger() });
    const responses = await exchangeAll(app, [
      { peer: PROXY, path: '/earlier', lines },
      { peer: STRANGER, path: '/earlier', lines },
    ]);
    expect(responses.map((response) => response.json)).toEqual([
      containing({ ip: '203.0.113.7', protocol: 'https' }),
      containing({ ip: STRANGER, protocol: 'http' }),
    ]);
  });

  it('a hook added before the plugin’s sees the resolved values too, on every request', async () => {
    // Registered on the app, the plugin resolves before Fastify routes.
    const app = Fastify();
    app.addHook('onRequest', (request, _reply, done) => {
      request.raw.headers['x-before'] = JSON.stringify({
        ...seen(request),
        clientAddress: request.forwarded.clientAddress,
      });
      done();
    });
    await app.register(waitressProxy, { ...X_FORWARDED, logger: new RecordingLogger() });
    app.get('/', (request) => ({
      before: JSON.parse(String(request.headers['x-before'])) as unknown,
      after: seen(request),
    }));
    const responses = await exchangeAll(app, [
      { peer: PROXY, lines },
      { peer: PROXY, lines },
    ]);
    for (const response of responses) {
      expect(response.json).toEqual({
        before: containing({ ip: '203.0.113.7', protocol: 'https', clientAddress: '203.0.113.7' }),
        after: containing({ ip: '203.0.113.7', protocol: 'https' }),
      });
    }
  });

  it.each(['app first', 'child first'])(
    'registered inside a child, a hook before the plugin’s gets Fastify’s own values, on every request (%s)',
    async (order) => {
      // There the plugin resolves in its onRequest hook: the getters, already
      // installed on the app's Request class, must give Fastify's values
      // before it, whichever class was patched first.
      const app = Fastify();
      const report = (request: FastifyRequest) => ({
        before: JSON.parse(String(request.headers['x-before'])) as unknown,
        after: seen(request),
      });
      await app.register(async (child) => {
        child.addHook('onRequest', (request, _reply, done) => {
          request.raw.headers['x-before'] = JSON.stringify({
            ...seen(request),
            forwarded: request.forwarded as unknown,
          });
          done();
        });
        await child.register(waitressProxy, { ...X_FORWARDED, logger: new RecordingLogger() });
        child.get('/', report);
        await child.register((grandchild, _options, done) => {
          // Decorating gives the grandchild a Request class of its own, whose
          // prototype inherits the patched one.
          grandchild.decorateRequest('extra', null);
          grandchild.get('/grandchild', report);
          done();
        });
      });
      const responses = await exchangeAll(app, [
        { peer: PROXY, path: order === 'app first' ? '/' : '/grandchild', lines },
        { peer: PROXY, path: order === 'app first' ? '/grandchild' : '/', lines },
        { peer: PROXY, path: '/grandchild', lines },
        { peer: PROXY, path: '/', lines },
      ]);
      for (const response of responses) {
        expect(response.json).toEqual({
          before: containing({ ip: PROXY, protocol: 'http', forwarded: null }),
          after: containing({ ip: '203.0.113.7', protocol: 'https' }),
        });
      }
    },
  );

  it('registered inside a child plugin, it applies to that child only', async () => {
    const app = Fastify();
    app.get('/outside', (request) => seen(request));
    await app.register(async (child) => {
      await child.register(waitressProxy, { ...X_FORWARDED, logger: new RecordingLogger() });
      child.get('/inside', (request) => seen(request));
    });
    const [inside, outside] = await exchangeAll(app, [
      { peer: PROXY, path: '/inside', lines },
      { peer: PROXY, path: '/outside', lines },
    ]);
    expect(inside!.json).toMatchObject({ ip: '203.0.113.7', protocol: 'https' });
    expect(outside!.json).toMatchObject({ ip: PROXY, protocol: 'http' });
  });
});

describe('a malformed header from the trusted proxy', () => {
  it('reaches a custom setErrorHandler as a 400 MalformedProxyHeaderError naming the header', async () => {
    const app = Fastify();
    await app.register(waitressProxy, { ...X_FORWARDED, logger: new RecordingLogger() });
    app.setErrorHandler((error, _request, reply) => {
      if (!(error instanceof MalformedProxyHeaderError)) throw error;
      void reply.status(error.statusCode).send({
        handledBy: 'custom',
        header: error.header,
        statusCode: error.statusCode,
        message: error.message,
      });
    });
    app.get('/', () => 'reached the handler');
    const response = await exchange(app, {
      peer: PROXY,
      lines: ['X-Forwarded-Proto', 'gopher'],
    });
    expect(response.status).toBe(400);
    expect(response.json).toEqual({
      handledBy: 'custom',
      header: 'X-Forwarded-Proto',
      statusCode: 400,
      message: 'Header "X-Forwarded-Proto" malformed.',
    });
  });

  it('the error handler sees the direct connection and no proxy header, even with trustProxy', async () => {
    const app = Fastify({ trustProxy: true });
    await app.register(waitressProxy, { ...X_FORWARDED, logger: new RecordingLogger() });
    app.setErrorHandler((_error, request, reply) => {
      void reply.status(400).send({
        ...seen(request),
        forwardedFor: request.headers['x-forwarded-for'] ?? null,
        rawNames: request.raw.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase()),
      });
    });
    app.get('/', () => 'reached the handler');
    const response = await exchange(app, {
      peer: PROXY,
      lines: [
        'X-Forwarded-Proto',
        'https, http',
        'X-Forwarded-For',
        '6.6.6.6',
        'X-Forwarded-Host',
        'evil.example',
      ],
    });
    expect(response.status).toBe(400);
    expect(response.json).toEqual({
      ip: PROXY,
      ips: [],
      protocol: 'http',
      host: 'app.example',
      hostname: 'app.example',
      port: expect.any(Number) as unknown,
      hostHeader: 'app.example',
      forwardedFor: null,
      rawNames: ['host', 'connection'],
    });
  });

  it('is a 400 through Fastify’s default error handler, logged through request.log with the peer', async () => {
    const log = new LogLines();
    const app = Fastify({ logger: { level: 'warn', stream: log } });
    await app.register(waitressProxy, X_FORWARDED);
    app.get('/', () => 'reached the handler');
    const response = await exchange(app, {
      peer: PROXY,
      lines: ['X-Forwarded-For', '203.0.113.7:99999'],
    });
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({
      statusCode: 400,
      code: 'WAITRESS_PROXY_MALFORMED_HEADER',
      message: 'Header "X-Forwarded-For" malformed.',
    });
    const warning = log.lines.find((line) => String(line.msg).includes('Malformed proxy header'));
    expect(warning).toMatchObject({
      level: 40,
      reqId: anyString,
      msg: including(`"X-Forwarded-For" from "${PROXY}"`),
    });
  });

  it('from an untrusted peer is not read at all', async () => {
    const observed = await observe(X_FORWARDED, STRANGER, ['X-Forwarded-Proto', 'gopher']);
    expect(observed).toMatchObject({ ip: STRANGER, protocol: 'http' });
  });
});

describe('Fastify’s trustProxy option', () => {
  it.each([
    ['true', true],
    ['an address', '127.0.0.3'],
  ])('with trustProxy %s the plugin’s values win', async (_name, trustProxy) => {
    const app = await observingApp(X_FORWARDED, { trustProxy });
    // The stranger is Fastify's trusted proxy, not the plugin's.
    const response = await exchange(app, {
      peer: STRANGER,
      lines: [
        'X-Forwarded-For',
        '203.0.113.66',
        'X-Forwarded-Proto',
        'https',
        'X-Forwarded-Host',
        'evil.example',
      ],
    });
    expect(response.json).toMatchObject({
      ip: STRANGER,
      ips: [],
      protocol: 'http',
      host: 'app.example',
      hostname: 'app.example',
    });
    const viaProxy = await exchange(await observingApp(X_FORWARDED, { trustProxy }), {
      peer: PROXY,
      lines: ['X-Forwarded-For', '6.6.6.6, 203.0.113.7', 'X-Forwarded-Proto', 'https'],
    });
    expect(viaProxy.json).toMatchObject({
      ip: '203.0.113.7',
      ips: ['203.0.113.7'],
      protocol: 'https',
    });
  });

  it('set together with the plugin, it is warned about once, at registration', async () => {
    const logger = new RecordingLogger();
    const app = Fastify({ trustProxy: true });
    await app.register(waitressProxy, { ...X_FORWARDED, logger });
    app.get('/', (request) => request.ip);
    expect(logger.messages).toEqual([
      expect.stringContaining("Fastify's trustProxy option is set too"),
    ]);
    await exchange(app, { peer: PROXY, lines: ['X-Forwarded-For', '203.0.113.7'] });
    expect(logger.messages).toHaveLength(1);
  });

  it.each([
    ['not set', {}],
    ['false', { trustProxy: false }],
  ])('is not warned about when it is %s', async (_name, serverOptions) => {
    const logger = new RecordingLogger();
    const app = Fastify(serverOptions);
    await app.register(waitressProxy, { ...X_FORWARDED, logger });
    await app.ready();
    await app.close();
    expect(logger.messages).toEqual([]);
  });
});

describe('start-up', () => {
  it('an invalid option fails app.register with the core’s WaitressProxyConfigError', async () => {
    const app = Fastify();
    await expect(app.register(waitressProxy, { trustedProxyCount: 2 })).rejects.toThrow(
      WaitressProxyConfigError,
    );
    await expect(
      Fastify().register(waitressProxy, {
        trustedProxy: PROXY,
        trustedProxyHeaders: 'x-forwarded-server',
      }),
    ).rejects.toThrow('unknown trustedProxyHeaders value "x-forwarded-server"');
  });

  it('registering it twice in one context is refused', async () => {
    const app = Fastify();
    await app.register(waitressProxy, { ...X_FORWARDED, logger: new RecordingLogger() });
    await expect(
      app.register(waitressProxy, { ...X_FORWARDED, logger: new RecordingLogger() }),
    ).rejects.toThrow('registered twice');
  });

  it('start-up warnings go to the app’s logger when the options name none', async () => {
    const log = new LogLines();
    const app = Fastify({ logger: { level: 'warn', stream: log } });
    await app.register(waitressProxy, { trustedProxy: PROXY });
    await app.close();
    expect(log.lines).toEqual([
      containing({
        level: 40,
        msg: including('trustedProxyHeaders is not'),
      }),
    ]);
  });
});
