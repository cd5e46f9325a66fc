/**
 * NestJS 12 on both platforms (examples/nestjs), over real sockets: a Nest
 * handler's `@Req()` shows the forwarded values, a stranger's forged headers
 * are removed, and a malformed header from the trusted proxy is a 400 through
 * Nest's own request pipeline, and its warning is seen (on the Fastify
 * platform Nest gives Fastify no logger: the plugin falls back to console).
 * On the Express platform, `app.use` before `init()` holds, also for the
 * errors Nest raises before any route (the example's exception filter sees
 * the client); the module's MiddlewareConsumer serves routes but misses those
 * errors (the filter sees forged headers), and `app.use` after `init()` never
 * runs at all, which no middleware can notice: hence the docs.
 */
import { request } from 'node:http';
import { startNest } from './serve.js';
import type { NestApp, RunningNest } from './serve.js';

const PROXY = '127.0.0.2';
const STRANGER = '127.0.0.3';
const OPTIONS = {
  trustedProxy: PROXY,
  trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'],
};

let nest: RunningNest;
let ports: Readonly<Record<NestApp, number>>;
const stderr = () => nest.stderr();

beforeAll(async () => {
  nest = await startNest(OPTIONS);
  ports = nest.ports;
}, 60_000);

afterAll(async () => {
  await nest.stop();
});

function get(
  port: number,
  peer: string,
  headers: Record<string, string>,
  path = '/',
  post?: string,
) {
  return new Promise<{ status: number; body: unknown }>((done, fail) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        localAddress: peer,
        path,
        method: post === undefined ? 'GET' : 'POST',
        headers: post === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        agent: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          done({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on('error', fail);
    req.end(post);
  });
}

const PLATFORMS: readonly (readonly [string, NestApp])[] = [
  ['Express platform, MiddlewareConsumer', 'express'],
  ['Express platform, app.use before init()', 'expressUseBeforeInit'],
  ['Fastify platform', 'fastify'],
];

/** A stranger's forged proxy headers. */
const FORGED = {
  'x-forwarded-for': '6.6.6.6',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'evil.example',
};

let errors = 0;

/**
 * What the example's exception filter logged for a request to `path` (made
 * unique with a query), from standard error.
 */
async function loggedFor(path: string): Promise<string | undefined> {
  const find = () =>
    stderr()
      .split('\n')
      .find((line) => line.includes(`error on ${path}:`));
  await until(() => find() !== undefined);
  return find();
}

/**
 * Errors Nest raises before any route: a body that is not JSON, a path that
 * does not decode. The exception filter must see the stranger, not its
 * forged headers.
 */
const EARLY_ERRORS = [
  ['a body that is not JSON', '/', '{'],
  ['a path that does not decode', '/%zz', undefined],
] as const;

const forwarded = {
  'x-forwarded-for': '203.0.113.7',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'shop.example',
};

describe.each(PLATFORMS)('NestJS 12, %s', (_name, app) => {
  const port = () => ports[app];

  it("@Req() shows the trusted proxy's values", async () => {
    expect(await get(port(), PROXY, forwarded)).toEqual({
      status: 200,
      body: {
        ip: '203.0.113.7',
        protocol: 'https',
        host: 'shop.example',
        forwardedFor: '203.0.113.7',
      },
    });
  });

  it("a stranger's forged headers are neither used nor passed on", async () => {
    expect(await get(port(), STRANGER, forwarded)).toEqual({
      status: 200,
      body: { ip: STRANGER, protocol: 'http', host: `127.0.0.1:${port()}`, forwardedFor: null },
    });
  });

  it('a malformed header from the trusted proxy is a 400, no handler runs, and the warning is seen', async () => {
    const value = `ftp-${app}`;
    const { status, body } = await get(port(), PROXY, { 'x-forwarded-proto': value });
    expect(status).toBe(400);
    expect(JSON.stringify(body)).toContain('Header \\"X-Forwarded-Proto\\" malformed.');
    // console.warn in the app's process: its standard error.
    const line = `Malformed proxy header "X-Forwarded-Proto" from "${PROXY}": not "http" or "https"; value: "${value}"`;
    await until(() => stderr().includes(line));
    expect(stderr()).toContain(line);
  });
});

describe.each([
  ['Express platform, app.use before init()', 'expressUseBeforeInit'],
  ['Fastify platform', 'fastify'],
] as const)('NestJS 12, %s: errors before any route', (_name, app) => {
  // Fastify answers a path that does not decode itself, before Nest: no filter runs.
  it.each(app === 'fastify' ? EARLY_ERRORS.slice(0, 1) : EARLY_ERRORS)(
    '%s from a stranger: the exception filter sees the stranger, and no forged header',
    async (_what, path, body) => {
      const unique = `${path}?e=${String(++errors)}`;
      const { status } = await get(ports[app], STRANGER, FORGED, unique, body);
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(500);
      expect(await loggedFor(unique)).toBe(
        `error on ${unique}: client ${STRANGER}, X-Forwarded-For (none)`,
      );
    },
  );
});

describe('NestJS 12, Express platform, MiddlewareConsumer: why it is not the recommended form', () => {
  it.each(EARLY_ERRORS)(
    '%s from a stranger reaches the exception filter without passing the middleware, forged header included',
    async (_what, path, body) => {
      const unique = `${path}?e=${String(++errors)}`;
      const { status } = await get(ports.express, STRANGER, FORGED, unique, body);
      expect(status).toBe(400);
      expect(await loggedFor(unique)).toBe(
        `error on ${unique}: client ${STRANGER}, X-Forwarded-For 6.6.6.6`,
      );
    },
  );
});

describe('NestJS 12, Express platform, the trap: app.use(waitressProxy(...)) after init()', () => {
  it('never runs: the proxy’s address, http, and a stranger’s forged header passed on', async () => {
    const port = ports.expressUseAfterInit;
    expect(await get(port, PROXY, forwarded)).toEqual({
      status: 200,
      body: { ip: PROXY, protocol: 'http', host: undefined, forwardedFor: '203.0.113.7' },
    });
    expect(await get(port, STRANGER, forwarded)).toMatchObject({
      body: { ip: STRANGER, forwardedFor: '203.0.113.7' },
    });
  });

  it('not even for a path no route serves: Nest’s not-found handler comes first (404, not the 400)', async () => {
    const port = ports.expressUseAfterInit;
    expect(await get(port, PROXY, { 'x-forwarded-proto': 'ftp' }, '/nowhere')).toMatchObject({
      status: 404,
    });
    expect(
      await get(ports.express, PROXY, { 'x-forwarded-proto': 'ftp' }, '/nowhere'),
    ).toMatchObject({ status: 400 });
  });
});

/** Waits up to 2 s for `condition` (a line written by another process). */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 40 && !condition(); i++) await new Promise((done) => setTimeout(done, 50));
}
