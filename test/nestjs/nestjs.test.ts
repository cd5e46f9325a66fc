/**
 * NestJS 12 on both platforms (examples/nestjs), over real sockets: a Nest
 * handler's `@Req()` shows the forwarded values, a stranger's forged headers
 * are removed, and a malformed header from the trusted proxy is a 400 through
 * Nest's own request pipeline, and its warning is seen (on the Fastify
 * platform Nest gives Fastify no logger: the plugin falls back to console).
 * On the Express platform, the module's MiddlewareConsumer and `app.use`
 * before `init()` both work; `app.use` after `init()` is the trap: the
 * middleware never runs, which no middleware can notice, hence the docs.
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

function get(port: number, peer: string, headers: Record<string, string>) {
  return new Promise<{ status: number; body: unknown }>((done, fail) => {
    const req = request(
      { host: '127.0.0.1', port, localAddress: peer, path: '/', headers, agent: false },
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
    req.end();
  });
}

const PLATFORMS: readonly (readonly [string, NestApp])[] = [
  ['Express platform, MiddlewareConsumer', 'express'],
  ['Express platform, app.use before init()', 'expressUseBeforeInit'],
  ['Fastify platform', 'fastify'],
];

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
});

/** Waits up to 2 s for `condition` (a line written by another process). */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 40 && !condition(); i++) await new Promise((done) => setTimeout(done, 50));
}
