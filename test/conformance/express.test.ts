/**
 * Express 4 and 5 in the conformance matrix, then what only Express has:
 * mounted Routers and sub-apps under `urlPrefix`, its `trust proxy`
 * setting, `req.host`'s two meanings, `req.subdomains`, and its error path.
 */
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import express5 from 'express';
import type { Express, NextFunction, Request, Response, Router } from 'express';
import express4 from 'express4';
import type { WaitressProxyOptions } from '@waitress-proxy/core';
import { MalformedProxyHeaderError, waitressProxy } from '@waitress-proxy/express';
import { DIRECT_HOST, PROXY, STRANGER } from './cases.js';
import { close, listen, send, withHost } from './client.js';
import type { Exchange, ListenHost } from './client.js';
import { RecordingLogger, describeConformance, isAdapterError } from './harness.js';
import type { ErrorReport, Harness, Observation } from './harness.js';

interface ExpressVersion {
  readonly name: string;
  readonly major: 4 | 5;
  readonly createApp: () => Express;
  readonly createRouter: () => Router;
}

// Express 4 runs under Express 5's types here; the test "the middleware fits
// Express 4's own types" below uses express4's.
const VERSIONS: readonly ExpressVersion[] = [
  {
    name: 'Express 5',
    major: 5,
    createApp: () => express5(),
    createRouter: () => express5.Router(),
  },
  {
    name: 'Express 4',
    major: 4,
    createApp: () => express4() as unknown as Express,
    createRouter: () => express4.Router() as unknown as Router,
  },
];

/** The conformance `Observation`, read through Express's API. */
function observe(req: Request, major: 4 | 5): Observation {
  return {
    view: req.forwarded!,
    app: {
      ip: req.ip!,
      ips: req.ips,
      protocol: req.protocol,
      secure: req.secure,
      hostname: req.hostname,
      // Express 4's req.host is its hostname; the host with port is the header.
      host: major === 5 ? req.host : req.get('host'),
      url: `${req.protocol}://${req.get('host')!}${req.originalUrl}`,
      path: req.path,
    },
    headers: req.headers as Record<string, string | string[]>,
    rawHeaders: req.rawHeaders,
    socket: { remoteAddress: req.socket.remoteAddress!, remotePort: req.socket.remotePort! },
  };
}

/** Renders an error the way an app's own handler would, as an `ErrorReport`. */
function reportError(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (!isAdapterError(err)) {
    next(err);
    return;
  }
  const report: ErrorReport = {
    error: { name: err.name, message: err.message, status: err.status, expose: err.expose },
  };
  res.status(err.status).json(report);
}

function harnessFor(version: ExpressVersion): Harness {
  return {
    name: version.name,
    createServer(options) {
      const app = version.createApp();
      app.use(waitressProxy(options));
      app.use((req, res) => {
        res.json(observe(req, version.major));
      });
      app.use(reportError);
      return createServer(app);
    },
  };
}

for (const version of VERSIONS) describeConformance(harnessFor(version));

/** Starts `app`, sends one request from `peer` with header `lines`, and stops it. */
async function exchange(
  app: Express,
  peer: string,
  path: string,
  lines: readonly string[] = [],
  listenHost: ListenHost = '127.0.0.1',
): Promise<Exchange> {
  const server: Server = createServer(app);
  const port = await listen(server, listenHost);
  try {
    return await send(port, peer, path, withHost(lines));
  } finally {
    await close(server);
  }
}

/** What a handler inside a mounted Router or sub-app reports about routing. */
function routing(req: Request): Record<string, unknown> {
  return {
    baseUrl: req.baseUrl,
    url: req.url,
    originalUrl: req.originalUrl,
    path: req.path,
    ip: req.ip,
  };
}

const X_FORWARDED: WaitressProxyOptions = {
  trustedProxy: PROXY,
  trustedProxyHeaders: [
    'x-forwarded-for',
    'x-forwarded-host',
    'x-forwarded-proto',
    'x-forwarded-port',
  ],
};

describe.each(VERSIONS)('$name: X-Forwarded-Prefix in req.baseUrl', (version) => {
  const options: WaitressProxyOptions = {
    trustedProxy: PROXY,
    trustedProxyHeaders: ['x-forwarded-prefix'],
    urlPrefix: '/v2',
  };

  it.each([
    ['a Router', () => version.createRouter()],
    ['a sub-app', () => version.createApp() as unknown as Router],
  ])(
    '%s mounted at /api sees the forwarded prefix, then urlPrefix, in baseUrl',
    async (_kind, createMounted) => {
      const app = version.createApp();
      app.use(waitressProxy(options));
      const mounted = createMounted();
      mounted.get('/x', (req, res) => {
        res.json(routing(req));
      });
      app.use('/api', mounted);

      const { status, body } = await exchange(app, PROXY, '/v2/api/x', [
        'X-Forwarded-Prefix: /shop',
      ]);
      expect(status).toBe(200);
      expect(JSON.parse(body)).toEqual({
        baseUrl: '/shop/v2/api',
        url: '/x',
        originalUrl: '/v2/api/x',
        path: '/x',
        ip: PROXY,
      });
    },
  );

  it.each([
    ['with urlPrefix', options, '/sub/v2/x', '/shop/sub/v2'],
    ['without urlPrefix', { ...options, urlPrefix: '' }, '/sub/x', '/shop/sub'],
  ])(
    'installed in a sub-app mounted at /sub, %s: the forwarded prefix goes before /sub',
    async (_what, subOptions, path, baseUrl) => {
      const app = version.createApp();
      const sub = version.createApp();
      sub.use(waitressProxy(subOptions));
      sub.get('/x', (req, res) => {
        res.json(routing(req));
      });
      app.use('/sub', sub as unknown as Router);
      const { body } = await exchange(app, PROXY, path, ['X-Forwarded-Prefix: /shop']);
      expect(JSON.parse(body)).toMatchObject({ baseUrl, path: '/x' });
    },
  );

  it('a forged X-Forwarded-Prefix from an untrusted peer leaves baseUrl alone', async () => {
    const app = version.createApp();
    app.use(waitressProxy(options));
    app.get('/x', (req, res) => {
      res.json({ ...routing(req), prefix: req.headers['x-forwarded-prefix'] ?? null });
    });
    const { body } = await exchange(app, STRANGER, '/v2/x', ['X-Forwarded-Prefix: //evil.example']);
    expect(JSON.parse(body)).toMatchObject({ baseUrl: '/v2', prefix: null });
  });
});

describe.each(VERSIONS)('$name: urlPrefix with mounted Routers and sub-apps', (version) => {
  const options = { urlPrefix: '/foo' };

  it.each([
    ['a Router', () => version.createRouter()],
    ['a sub-app', () => version.createApp() as unknown as Router],
  ])(
    '%s mounted at /api after the middleware sees baseUrl /foo/api for /foo/api/x',
    async (_kind, createMounted) => {
      const app = version.createApp();
      app.use(waitressProxy(options));
      const mounted = createMounted();
      mounted.get('/x', (req, res) => {
        res.json(routing(req));
      });
      app.use('/api', mounted);

      const { status, body } = await exchange(app, STRANGER, '/foo/api/x?q=1');
      expect(status).toBe(200);
      expect(JSON.parse(body)).toEqual({
        baseUrl: '/foo/api',
        url: '/x?q=1',
        originalUrl: '/foo/api/x?q=1',
        path: '/x',
        ip: STRANGER,
      });
    },
  );

  it('the app itself sees baseUrl /foo, and again after a mounted Router passed the request on', async () => {
    const app = version.createApp();
    app.use(waitressProxy(options));
    const seen: Record<string, unknown>[] = [];
    app.use((req, _res, next) => {
      seen.push({ where: 'app before', baseUrl: req.baseUrl, url: req.url });
      next();
    });
    const router = version.createRouter();
    router.use((req, _res, next) => {
      seen.push({ where: 'router', baseUrl: req.baseUrl, url: req.url });
      next();
    });
    app.use('/api', router);
    app.get('/api/x', (req, res) => {
      seen.push({ where: 'app after', baseUrl: req.baseUrl, url: req.url });
      res.json(seen);
    });

    const { body } = await exchange(app, STRANGER, '/foo/api/x');
    expect(JSON.parse(body)).toEqual([
      { where: 'app before', baseUrl: '/foo', url: '/api/x' },
      { where: 'router', baseUrl: '/foo/api', url: '/x' },
      { where: 'app after', baseUrl: '/foo', url: '/api/x' },
    ]);
  });

  it('Routers nested two deep, one with a path parameter, see the whole prefixed baseUrl', async () => {
    const app = version.createApp();
    app.use(waitressProxy(options));
    const users = version.createRouter();
    users.get('/profile', (req, res) => {
      res.json(routing(req));
    });
    const api = version.createRouter();
    api.use('/users/:id', users);
    app.use('/api', api);

    const { body } = await exchange(app, STRANGER, '/foo/api/users/7/profile');
    expect(JSON.parse(body)).toEqual({
      baseUrl: '/foo/api/users/7',
      url: '/profile',
      originalUrl: '/foo/api/users/7/profile',
      path: '/profile',
      ip: STRANGER,
    });
  });

  it('a sub-app mounted at / sees the prefix as its baseUrl', async () => {
    const app = version.createApp();
    app.use(waitressProxy(options));
    const sub = version.createApp();
    sub.get('/x', (req, res) => {
      res.json(routing(req));
    });
    app.use(sub);

    const { body } = await exchange(app, STRANGER, '/foo/x');
    expect(JSON.parse(body)).toMatchObject({ baseUrl: '/foo', url: '/x', originalUrl: '/foo/x' });
  });

  it('a path the proxy already stripped still gets the prefix in baseUrl (SCRIPT_NAME)', async () => {
    const app = version.createApp();
    app.use(waitressProxy(options));
    const router = version.createRouter();
    router.get('/x', (req, res) => {
      res.json(routing(req));
    });
    app.use('/api', router);

    const { body } = await exchange(app, STRANGER, '/api/x');
    expect(JSON.parse(body)).toMatchObject({
      baseUrl: '/foo/api',
      url: '/x',
      originalUrl: '/api/x',
    });
  });

  it('a request for exactly the prefix reaches the app root route', async () => {
    const app = version.createApp();
    app.use(waitressProxy(options));
    app.get('/', (req, res) => {
      res.json(routing(req));
    });

    const { body } = await exchange(app, STRANGER, '/foo');
    expect(JSON.parse(body)).toMatchObject({ baseUrl: '/foo', url: '/', originalUrl: '/foo' });
  });

  it('without urlPrefix the middleware leaves baseUrl to Express', async () => {
    const app = version.createApp();
    app.use(waitressProxy());
    const router = version.createRouter();
    router.get('/x', (req, res) => {
      res.json(routing(req));
    });
    app.use('/api', router);

    const { body } = await exchange(app, STRANGER, '/api/x');
    expect(JSON.parse(body)).toMatchObject({ baseUrl: '/api', url: '/x', originalUrl: '/api/x' });
  });
});

describe.each(VERSIONS)("$name: the middleware's values win over `trust proxy`", (version) => {
  /** Express's request properties that its `trust proxy` setting drives. */
  function trustDriven(req: Request): Record<string, unknown> {
    return {
      ip: req.ip,
      ips: req.ips,
      protocol: req.protocol,
      secure: req.secure,
      hostname: req.hostname,
      subdomains: req.subdomains,
      ...(version.major === 5 ? { host: req.host } : {}),
    };
  }

  it.each<[string, unknown]>([
    ['true', true],
    ["'loopback'", 'loopback'],
    ['a hop count', 3],
    ['a function', () => true],
  ])('an untrusted peer keeps its direct view with trust proxy %s', async (_label, setting) => {
    const app = version.createApp();
    app.set('trust proxy', setting);
    // Headers left in place, so Express's own getters would read them.
    app.use(waitressProxy({ ...X_FORWARDED, clearUntrustedProxyHeaders: false }));
    app.get('/', (req, res) => {
      res.json(trustDriven(req));
    });

    const { body } = await exchange(app, STRANGER, '/', [
      'Host: tobi.ferrets.example.com',
      'X-Forwarded-For: 203.0.113.66',
      'X-Forwarded-Host: evil.example',
      'X-Forwarded-Proto: https',
    ]);
    expect(JSON.parse(body)).toEqual({
      ip: STRANGER,
      ips: [],
      protocol: 'http',
      secure: false,
      hostname: 'tobi.ferrets.example.com',
      subdomains: ['ferrets', 'tobi'],
      ...(version.major === 5 ? { host: 'tobi.ferrets.example.com' } : {}),
    });
  });

  it('a trusted proxy whose X-Forwarded-For is not trusted does not give Express a client address', async () => {
    const app = version.createApp();
    app.set('trust proxy', true);
    app.use(
      waitressProxy({
        trustedProxy: PROXY,
        trustedProxyHeaders: ['x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port'],
        clearUntrustedProxyHeaders: false,
      }),
    );
    app.get('/', (req, res) => {
      res.json(trustDriven(req));
    });

    const { body } = await exchange(app, PROXY, '/', [
      'X-Forwarded-For: 203.0.113.66',
      'X-Forwarded-Host: www.shop.example',
      'X-Forwarded-Port: 9443',
      'X-Forwarded-Proto: https',
    ]);
    expect(JSON.parse(body)).toEqual({
      ip: PROXY,
      ips: [],
      protocol: 'https',
      secure: true,
      hostname: 'www.shop.example',
      subdomains: ['www'],
      // Express 5 alone would read X-Forwarded-Host and drop X-Forwarded-Port.
      ...(version.major === 5 ? { host: 'www.shop.example:9443' } : {}),
    });
  });
});

describe.each(VERSIONS)('$name: request properties', (version) => {
  it(`req.host is ${version.major === 5 ? 'the host with its port' : 'the hostname, as Express 4 defines it'}`, async () => {
    const app = version.createApp();
    app.use(waitressProxy(X_FORWARDED));
    app.get('/', (req, res) => {
      res.json({ host: req.host, hostname: req.hostname, header: req.get('host') });
    });

    const { body } = await exchange(app, PROXY, '/', ['X-Forwarded-Host: shop.example:8443']);
    expect(JSON.parse(body)).toEqual({
      host: version.major === 5 ? 'shop.example:8443' : 'shop.example',
      hostname: 'shop.example',
      header: 'shop.example:8443',
    });
  });

  it('req.ips is a new array on every read, as Express gives it, and the view stays whole', async () => {
    const app = version.createApp();
    app.use(waitressProxy({ ...X_FORWARDED, logger: new RecordingLogger() }));
    app.get('/', (req, res) => {
      const first = req.ips;
      first.push('6.6.6.6');
      res.json({ again: req.ips, view: req.forwarded!.ips, same: first === req.ips });
    });
    const { body } = await exchange(app, PROXY, '/', ['X-Forwarded-For: 192.0.2.1']);
    expect(JSON.parse(body)).toEqual({ again: ['192.0.2.1'], view: ['192.0.2.1'], same: false });
  });

  it('req.subdomains follows the forwarded host and the app\'s "subdomain offset"', async () => {
    const app = version.createApp();
    app.set('subdomain offset', 3);
    app.use(waitressProxy(X_FORWARDED));
    app.get('/', (req, res) => {
      res.json(req.subdomains);
    });

    const { body } = await exchange(app, PROXY, '/', [
      'X-Forwarded-Host: tobi.ferrets.shop.example.com',
    ]);
    expect(JSON.parse(body)).toEqual(['ferrets', 'tobi']);
  });

  it('the request properties survive the prototype switch into a sub-app', async () => {
    const app = version.createApp();
    app.use(waitressProxy(X_FORWARDED));
    const sub = version.createApp();
    sub.get('/', (req, res) => {
      res.json({ ip: req.ip, protocol: req.protocol, hostname: req.hostname });
    });
    app.use('/sub', sub);

    const { body } = await exchange(app, PROXY, '/sub', [
      'X-Forwarded-For: 203.0.113.7',
      'X-Forwarded-Proto: https',
      'X-Forwarded-Host: shop.example',
    ]);
    expect(JSON.parse(body)).toEqual({
      ip: '203.0.113.7',
      protocol: 'https',
      hostname: 'shop.example',
    });
  });

  it('the options are compiled once: the start-up warning is not repeated per request', async () => {
    const logger = new RecordingLogger();
    const app = version.createApp();
    app.use(waitressProxy({ trustedProxy: PROXY, logger }));
    app.get('/', (req, res) => {
      res.send(req.protocol);
    });
    expect(logger.messages).toHaveLength(1);

    const server = createServer(app);
    const port = await listen(server, '127.0.0.1');
    try {
      for (let i = 0; i < 3; i++) {
        const { body } = await send(port, PROXY, '/', [
          `Host: ${DIRECT_HOST}`,
          'X-Forwarded-Proto: https',
        ]);
        expect(body).toBe('https');
      }
    } finally {
      await close(server);
    }
    expect(logger.messages).toHaveLength(1);
  });
});

describe.each(VERSIONS)('$name: a malformed header from a trusted proxy', (version) => {
  const malformedProto = ['X-Forwarded-Proto: https, http'];

  it("goes to the app's error handler as a MalformedProxyHeaderError, and no route runs", async () => {
    const app = version.createApp();
    app.use(waitressProxy({ ...X_FORWARDED, logger: new RecordingLogger() }));
    let routeRan = false;
    app.get('/', (_req, res) => {
      routeRan = true;
      res.send('route');
    });
    app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
      if (!(err instanceof MalformedProxyHeaderError)) {
        next(err);
        return;
      }
      res.status(422).json({
        status: err.status,
        statusCode: err.statusCode,
        expose: err.expose,
        header: err.header,
        message: err.message,
      });
    });

    const { status, body } = await exchange(app, PROXY, '/', malformedProto);
    expect(routeRan).toBe(false);
    // The app's handler decides the rendering, even the status.
    expect(status).toBe(422);
    expect(JSON.parse(body)).toEqual({
      status: 400,
      statusCode: 400,
      expose: true,
      header: 'X-Forwarded-Proto',
      message: 'Header "X-Forwarded-Proto" malformed.',
    });
  });

  it('the error handler sees the direct connection and no forged header, even with `trust proxy`', async () => {
    const app = version.createApp();
    app.set('trust proxy', true);
    app.use(waitressProxy({ ...X_FORWARDED, logger: new RecordingLogger() }));
    app.use((_err: unknown, req: Request, res: Response, _next: NextFunction) => {
      res.status(400).json({
        ip: req.ip,
        protocol: req.protocol,
        forwardedFor: req.headers['x-forwarded-for'] ?? null,
        raw: req.rawHeaders.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase()),
      });
    });

    const { status, body } = await exchange(app, PROXY, '/', [
      ...malformedProto,
      'X-Forwarded-For: 6.6.6.6',
    ]);
    expect(status).toBe(400);
    const seen = JSON.parse(body) as {
      ip: string;
      protocol: string;
      forwardedFor: null;
      raw: string[];
    };
    expect(seen).toMatchObject({ ip: PROXY, protocol: 'http', forwardedFor: null });
    expect(seen.raw.filter((name) => name.startsWith('x-forwarded'))).toEqual([]);
  });

  it("is a 400 from Express's default error handler", async () => {
    const app = version.createApp();
    app.use(waitressProxy({ ...X_FORWARDED, logger: new RecordingLogger() }));
    app.get('/', (_req, res) => {
      res.send('route');
    });

    const { status, body } = await exchange(app, PROXY, '/', malformedProto, '::');
    expect(status).toBe(400);
    // Outside production finalhandler shows the error; the message names the header.
    expect(body).toContain('Header &quot;X-Forwarded-Proto&quot; malformed.');
  });
});

it("the middleware fits Express 4's own types, and req.forwarded is typed there too", async () => {
  const app = express4();
  app.use(waitressProxy({ trustedProxy: PROXY, trustedProxyHeaders: 'x-forwarded-for' }));
  app.get('/', (req, res) => {
    res.send(req.forwarded?.clientAddress);
  });

  const server = createServer(app);
  const port = await listen(server, '127.0.0.1');
  try {
    const { body } = await send(port, PROXY, '/', [
      `Host: ${DIRECT_HOST}`,
      'X-Forwarded-For: 203.0.113.7',
    ]);
    expect(body).toBe('203.0.113.7');
  } finally {
    await close(server);
  }
});

describe.each(VERSIONS)('$name: the view follows the request, and only it', (version) => {
  /** The values the middleware drives, as a handler reads them. */
  function driven(req: Request): Record<string, unknown> {
    return { ip: req.ip, protocol: req.protocol, secure: req.secure, hostname: req.hostname };
  }
  const FORWARDED_LINES = [
    'X-Forwarded-For: 203.0.113.7',
    'X-Forwarded-Proto: https',
    'X-Forwarded-Host: shop.example',
  ];
  const RESOLVED = { ip: '203.0.113.7', protocol: 'https', secure: true, hostname: 'shop.example' };
  const DIRECT = { ip: PROXY, protocol: 'http', secure: false, hostname: DIRECT_HOST };

  it('a sub-app mounted after the middleware, and the app after it, see the view', async () => {
    const app = version.createApp();
    app.use(waitressProxy(X_FORWARDED));
    const sub = version.createApp();
    sub.use((req, _res, next) => {
      req.headers['x-in-sub-app'] = JSON.stringify(driven(req));
      next();
    });
    app.use('/api', sub);
    app.use((req, res) => {
      res.json({
        sub: JSON.parse(String(req.headers['x-in-sub-app'])) as unknown,
        app: driven(req),
      });
    });

    const { body } = await exchange(app, PROXY, '/api/x', FORWARDED_LINES);
    expect(JSON.parse(body)).toEqual({ sub: RESOLVED, app: RESOLVED });
  });

  it('a sub-app with the middleware gives the view to the app handlers after it', async () => {
    const app = version.createApp();
    const sub = version.createApp();
    sub.use(waitressProxy(X_FORWARDED));
    sub.use((req, _res, next) => {
      req.headers['x-in-sub-app'] = JSON.stringify(driven(req));
      next();
    });
    app.use(sub);
    app.use((req, res) => {
      res.json({
        sub: JSON.parse(String(req.headers['x-in-sub-app'])) as unknown,
        app: driven(req),
      });
    });

    const { body } = await exchange(app, PROXY, '/', FORWARDED_LINES);
    expect(JSON.parse(body)).toEqual({ sub: RESOLVED, app: RESOLVED });
  });

  it('a route before the middleware, and an app without it, get Express’s own values', async () => {
    const app = version.createApp();
    app.get('/before', (req, res) => {
      res.json(driven(req));
    });
    app.use(waitressProxy(X_FORWARDED));
    app.get('/after', (req, res) => {
      res.json(driven(req));
    });
    // Another app of the same Express, without the middleware, trusting
    // every proxy through Express's own setting.
    const other = version.createApp();
    other.set('trust proxy', true);
    other.get('/', (req, res) => {
      res.json(driven(req));
    });

    const after = await exchange(app, PROXY, '/after', FORWARDED_LINES);
    const before = await exchange(app, PROXY, '/before', FORWARDED_LINES);
    const withoutMiddleware = await exchange(other, PROXY, '/', FORWARDED_LINES);
    expect(JSON.parse(after.body)).toEqual(RESOLVED);
    expect(JSON.parse(before.body)).toEqual(DIRECT);
    // Express's own reading of the same headers (it takes them at face value).
    expect(JSON.parse(withoutMiddleware.body)).toEqual(RESOLVED);
  });

  it('an app without the middleware and without trust proxy reads the socket', async () => {
    const app = version.createApp();
    app.use(waitressProxy(X_FORWARDED));
    app.get('/', (req, res) => {
      res.json(driven(req));
    });
    const other = version.createApp();
    other.get('/', (req, res) => {
      res.json(driven(req));
    });

    const first = await exchange(app, PROXY, '/', FORWARDED_LINES);
    const second = await exchange(other, PROXY, '/', FORWARDED_LINES);
    expect(JSON.parse(first.body)).toEqual(RESOLVED);
    expect(JSON.parse(second.body)).toEqual(DIRECT);
  });

  it('req.forwarded is the view after the middleware, undefined before it, and assignable', async () => {
    const app = version.createApp();
    app.get('/before', (req, res) => {
      res.json({ forwarded: req.forwarded ?? 'none' });
    });
    app.use(waitressProxy(X_FORWARDED));
    app.get('/after', (req, res) => {
      res.json({ client: req.forwarded?.clientAddress });
    });
    app.get('/assigned', (req, res) => {
      (req as { forwarded?: unknown }).forwarded = 'replaced';
      res.json({ forwarded: req.forwarded, own: Object.keys(req).includes('forwarded') });
    });

    const before = await exchange(app, PROXY, '/before', FORWARDED_LINES);
    const after = await exchange(app, PROXY, '/after', FORWARDED_LINES);
    const assigned = await exchange(app, PROXY, '/assigned', FORWARDED_LINES);
    expect(JSON.parse(before.body)).toEqual({ forwarded: 'none' });
    expect(JSON.parse(after.body)).toEqual({ client: '203.0.113.7' });
    expect(JSON.parse(assigned.body)).toEqual({ forwarded: 'replaced', own: true });
  });

  it('requests in flight together each read their own view', async () => {
    const app = version.createApp();
    app.use(waitressProxy(X_FORWARDED));
    let firstIn = (): void => undefined;
    const firstArrived = new Promise<void>((resolve) => {
      firstIn = resolve;
    });
    let secondDone = (): void => undefined;
    const secondPassed = new Promise<void>((resolve) => {
      secondDone = resolve;
    });
    // The first request reads its values only after the second one has
    // passed the middleware: the view stored last is the second's.
    app.get('/first', (req, res) => {
      firstIn();
      void secondPassed.then(() => {
        res.json(driven(req));
      });
    });
    app.get('/second', (req, res) => {
      res.json(driven(req));
      secondDone();
    });
    const server: Server = createServer(app);
    const port = await listen(server, '127.0.0.1');
    try {
      const lines = (client: string, host: string) =>
        withHost([
          `X-Forwarded-For: ${client}`,
          'X-Forwarded-Proto: https',
          `X-Forwarded-Host: ${host}`,
        ]);
      const first = send(port, PROXY, '/first', lines('203.0.113.1', 'first.example'));
      // The second goes out once the first is in its handler.
      await firstArrived;
      const second = await send(port, PROXY, '/second', lines('203.0.113.2', 'second.example'));
      const secure = { protocol: 'https', secure: true };
      expect(JSON.parse(second.body)).toEqual({
        ip: '203.0.113.2',
        hostname: 'second.example',
        ...secure,
      });
      expect(JSON.parse((await first).body)).toEqual({
        ip: '203.0.113.1',
        hostname: 'first.example',
        ...secure,
      });
    } finally {
      await close(server);
    }
  });

  it('a later middleware can still assign req.ip and req.protocol', async () => {
    const app = version.createApp();
    app.use(waitressProxy(X_FORWARDED));
    app.use((req, _res, next) => {
      Object.assign(req, { ip: '192.0.2.99', protocol: 'http' });
      next();
    });
    app.get('/', (req, res) => {
      res.json({ ip: req.ip, protocol: req.protocol, hostname: req.hostname });
    });

    const { body } = await exchange(app, PROXY, '/', FORWARDED_LINES);
    expect(JSON.parse(body)).toEqual({
      ip: '192.0.2.99',
      protocol: 'http',
      hostname: 'shop.example',
    });
  });
});
