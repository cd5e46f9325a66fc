/**
 * A range source in real Express, Koa and Fastify apps over real sockets,
 * with `trustedProxyHeaders: 'cf-connecting-ip'`: the list served locally
 * names loopback addresses the test connects from, so "from the CDN" and
 * "from anyone else" are two source addresses. The list changes while the
 * app runs; the app is never restarted.
 */
import Fastify from 'fastify';
import { TrustedRangesUnavailableError } from '@waitress-proxy/core';
import { waitressProxy as fastifyProxy } from '@waitress-proxy/fastify';
import { fromUrl } from './index.js';
import type { RangeSource } from './index.js';
import { START, get, recordingLogger, startListServer, until } from './test-support.js';
import type { ListServer, RunningApp } from './test-support.js';

let lists: ListServer;
const controller = new AbortController();

beforeAll(async () => {
  lists = await startListServer();
});

afterAll(async () => {
  controller.abort();
  await lists.close();
});

const CDN_A = '127.0.0.21';
const CDN_B = '127.0.0.22';
const CLIENT = '203.0.113.50';
const forged = { 'CF-Connecting-IP': CLIENT };

describe.each(Object.keys(START))('%s with a range source', (framework) => {
  let source: RangeSource;
  let app: RunningApp;
  const path = `/${framework}-egress`;

  beforeAll(async () => {
    lists.set(path, `${CDN_A}/32\n`);
    source = fromUrl(lists.url(path), {
      format: 'lines',
      refreshInterval: 50,
      signal: controller.signal,
      logger: recordingLogger(),
    });
    app = await START[framework]!({
      trustedProxy: source,
      trustedProxyHeaders: 'cf-connecting-ip',
      logger: { warn: () => undefined },
    });
  });

  afterAll(async () => {
    await app.close();
  });

  it('trusts CF-Connecting-IP from an address in the list, and keeps the header', async () => {
    expect(JSON.parse((await get(app.url, CDN_A, forged)).body)).toEqual({
      ip: CLIENT,
      headers: { 'cf-connecting-ip': CLIENT },
      rawHeaders: [`CF-Connecting-IP: ${CLIENT}`],
    });
  });

  it('ignores and removes CF-Connecting-IP from an address not in the list', async () => {
    expect(JSON.parse((await get(app.url, CDN_B, forged)).body)).toEqual({
      ip: CDN_B,
      headers: {},
      rawHeaders: [],
    });
  });

  it('follows the list when it changes, without a restart', async () => {
    lists.set(path, `${CDN_B}/32\n`);
    await until('the changed list', () => source.contains(CDN_B) && !source.contains(CDN_A));
    const [fromB, fromA] = await Promise.all([
      get(app.url, CDN_B, forged),
      get(app.url, CDN_A, forged),
    ]);
    expect({ b: JSON.parse(fromB.body) as unknown, a: JSON.parse(fromA.body) as unknown }).toEqual({
      b: {
        ip: CLIENT,
        headers: { 'cf-connecting-ip': CLIENT },
        rawHeaders: [`CF-Connecting-IP: ${CLIENT}`],
      },
      a: { ip: CDN_A, headers: {}, rawHeaders: [] },
    });
  });

  it('keeps the last good list when a refresh brings 0.0.0.0/0', async () => {
    lists.set(path, `${CDN_B}/32\n0.0.0.0/0\n`);
    const hits = lists.hits(path);
    await until('two refused refreshes', () => lists.hits(path) >= hits + 2);
    expect(JSON.parse((await get(app.url, CDN_A, forged)).body)).toEqual({
      ip: CDN_A,
      headers: {},
      rawHeaders: [],
    });
    expect(JSON.parse((await get(app.url, CDN_B, forged)).body)).toMatchObject({ ip: CLIENT });
  });
});

describe('when the first load fails', () => {
  const failing = () => {
    lists.set('/down', { status: 502, body: 'Bad Gateway' });
    return fromUrl(lists.url('/down'), {
      format: 'lines',
      signal: controller.signal,
      logger: recordingLogger(),
    });
  };

  it.each(['express', 'koa'])('%s answers 503 and trusts nothing', async (framework) => {
    const app = await START[framework]!({
      trustedProxy: failing(),
      trustedProxyHeaders: 'cf-connecting-ip',
      logger: { warn: () => undefined },
    });
    try {
      const answer = await get(app.url, CDN_A, forged);
      expect({ status: answer.status, body: JSON.parse(answer.body) as unknown }).toEqual({
        status: 503,
        body: { error: 'Service Unavailable: the trusted proxy ranges could not be loaded.' },
      });
    } finally {
      await app.close();
    }
  });

  it('fastify refuses to start, naming the cause', async () => {
    const app = Fastify();
    void app.register(fastifyProxy, {
      trustedProxy: ['loopback', failing()],
      trustedProxyHeaders: 'cf-connecting-ip',
    });
    const started = app.ready();
    await expect(started).rejects.toBeInstanceOf(TrustedRangesUnavailableError);
    await expect(started).rejects.toMatchObject({
      cause: {
        message: expect.stringMatching(/GET http:\/\/127\.0\.0\.1:\d+\/down: status 502/) as string,
      },
    });
    await app.close().catch(() => undefined);
  });
});
