/**
 * Where the plugin's warnings go when its options name no `logger`. Fastify
 * is created without a logger by default, and NestJS's FastifyAdapter does
 * the same: `fastify.log` and `request.log` are then no-ops, and a warning
 * about a malformed header (or Fastify's own trustProxy set too) would
 * vanish. So without a Fastify logger they go to `console`, as on Express and
 * Koa; with one, to it; a logger silenced on purpose stays silent.
 */
import Fastify from 'fastify';
import { waitressProxy } from './index.js';
import { LogLines, PROXY, exchange } from './test-support.js';

const X_FORWARDED = { trustedProxy: PROXY, trustedProxyHeaders: ['x-forwarded-proto'] };
const MALFORMED = { peer: PROXY, lines: ['X-Forwarded-Proto', 'gopher'] };

let warned: string[];
let spy: jest.SpyInstance;
beforeEach(() => {
  warned = [];
  spy = jest.spyOn(console, 'warn').mockImplementation((message: unknown) => {
    warned.push(String(message));
  });
});
afterEach(() => {
  spy.mockRestore();
});

describe('the plugin’s warnings without a logger in its options', () => {
  it('Fastify without a logger: start-up and per-request warnings go to console', async () => {
    const app = Fastify({ trustProxy: true });
    await app.register(waitressProxy, X_FORWARDED);
    app.get('/', () => 'reached the handler');
    const response = await exchange(app, MALFORMED);
    expect(response.status).toBe(400);
    expect(warned).toEqual([
      expect.stringContaining("Fastify's trustProxy option is set too") as unknown,
      expect.stringContaining(`Malformed proxy header "X-Forwarded-Proto" from "${PROXY}"`),
    ]);
  });

  it('Fastify with a logger: they go to it, with the request id, and not to console', async () => {
    const log = new LogLines();
    const app = Fastify({ logger: { level: 'warn', stream: log } });
    await app.register(waitressProxy, X_FORWARDED);
    app.get('/', () => 'reached the handler');
    expect((await exchange(app, MALFORMED)).status).toBe(400);
    expect(warned).toEqual([]);
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        reqId: expect.any(String) as unknown,
        msg: expect.stringContaining('Malformed proxy header') as unknown,
      }),
    );
  });

  it('Fastify with its logger silenced on purpose: nothing on console either', async () => {
    const app = Fastify({ logger: { level: 'silent' } });
    await app.register(waitressProxy, X_FORWARDED);
    app.get('/', () => 'reached the handler');
    expect((await exchange(app, MALFORMED)).status).toBe(400);
    expect(warned).toEqual([]);
  });
});
