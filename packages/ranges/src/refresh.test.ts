/**
 * Refreshing, over a real socket: a changed list takes effect without a
 * restart, a failed or refused refresh keeps the last good list and warns,
 * aborting the signal stops the refreshes, and the timer never keeps the
 * process alive.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cloudflare, fromFile, fromUrl } from './index.js';
import { fixture, recordingLogger, runScript, startListServer, until } from './test-support.js';
import type { ListServer, Reply } from './test-support.js';

let server: ListServer;
const controllers: AbortController[] = [];

beforeAll(async () => {
  server = await startListServer();
});

afterAll(async () => {
  for (const controller of controllers) controller.abort();
  await server.close();
});

function signal(): AbortSignal {
  const controller = new AbortController();
  controllers.push(controller);
  return controller.signal;
}

/** Resolves after `count` more requests reached `path`. */
async function nextLoads(path: string, count: number): Promise<void> {
  const target = server.hits(path) + count;
  await until(`${count} loads of ${path}`, () => server.hits(path) >= target);
  // Let the source finish with the body it received.
  await new Promise((done) => setTimeout(done, 30));
}

describe('refreshing a list', () => {
  it('a new range becomes trusted and a removed one stops being trusted', async () => {
    server.set('/v4', '173.245.48.0/20\n103.21.244.0/22');
    server.set('/v6', '2400:cb00::/32');
    const source = cloudflare({
      urls: [server.url('/v4'), server.url('/v6')],
      refreshInterval: 50,
      signal: signal(),
      logger: recordingLogger(),
    });
    await source.ready();
    expect(source.contains('173.245.48.1')).toBe(true);
    expect(source.contains('141.101.64.1')).toBe(false);
    server.set('/v4', '103.21.244.0/22\n141.101.64.0/18');
    server.set('/v6', '2606:4700::/32');
    await until('the new list', () => source.contains('141.101.64.1'));
    expect({
      added: source.contains('141.101.64.1'),
      kept: source.contains('103.21.244.9'),
      removed: source.contains('173.245.48.1'),
      addedV6: source.contains('2606:4700::1'),
      removedV6: source.contains('2400:cb00::1'),
    }).toEqual({ added: true, kept: true, removed: false, addedV6: true, removedV6: false });
    expect(source.ranges()).toEqual(['103.21.244.0/22', '141.101.64.0/18', '2606:4700::/32']);
  });

  const bad: [string, Reply | string, RegExp][] = [
    ['the server answers 500', { status: 500, body: 'Internal Server Error' }, /status 500/],
    ['a captive portal answers HTML', '<html><body>Sign in to continue</body></html>', /"<html>/],
    ['the list adds 0.0.0.0/0', '198.51.100.0/24\n0.0.0.0/0', /"0\.0\.0\.0\/0" is wider than \/8/],
    ['the list adds ::/0', '198.51.100.0/24\n::/0', /"::\/0" is wider than \/32/],
    ['the list comes back empty', '', /holds no range/],
    [
      'a bad CIDR among good ones',
      '198.51.100.0/24\n192.0.2.0/24\n300.1.1.0/24',
      /"300\.1\.1\.0\/24"/,
    ],
  ];

  it.each(bad)(
    '%s: the last good list stays, and a warning says why',
    async (_name, reply, why) => {
      const path = `/refresh-${bad.findIndex((row) => row[0] === _name)}`;
      server.set(path, '198.51.100.0/24');
      const logger = recordingLogger();
      const source = fromUrl(server.url(path), {
        format: 'lines',
        refreshInterval: 40,
        signal: signal(),
        logger,
      });
      await source.ready();
      server.set(path, reply);
      await nextLoads(path, 2);
      expect(source.ranges()).toEqual(['198.51.100.0/24']);
      expect(source.contains('198.51.100.7')).toBe(true);
      expect(source.contains('192.0.2.1')).toBe(false);
      expect(source.contains('8.8.8.8')).toBe(false);
      expect(logger.warnings.length).toBeGreaterThanOrEqual(1);
      expect(logger.warnings[0]).toMatch(
        /refreshing fromUrl\(.*\) failed; keeping the last good list \(1 ranges\)/,
      );
      expect(logger.warnings[0]).toMatch(why);
      // And it recovers when the list is good again.
      server.set(path, '192.0.2.0/24');
      await until('the recovered list', () => source.contains('192.0.2.1'));
      expect(source.contains('198.51.100.7')).toBe(false);
    },
  );

  it('fromFile follows a rewritten file, and keeps the last good list while it is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ranges-'));
    try {
      const path = join(dir, 'egress.txt');
      writeFileSync(path, '198.51.100.0/24\n');
      const logger = recordingLogger();
      const source = fromFile(path, {
        format: 'lines',
        refreshInterval: 40,
        signal: signal(),
        logger,
      });
      await source.ready();
      rmSync(path);
      await until('a failed refresh', () => logger.warnings.length > 0);
      expect(logger.warnings[0]).toMatch(/ENOENT/);
      expect(source.contains('198.51.100.7')).toBe(true);
      writeFileSync(path, '192.0.2.0/24\n');
      await until('the rewritten file', () => source.contains('192.0.2.1'));
      expect(source.contains('198.51.100.7')).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a refresh slower than the timeout is abandoned and the last good list stays', async () => {
    server.set('/slow', '198.51.100.0/24');
    const logger = recordingLogger();
    const source = fromUrl(server.url('/slow'), {
      format: 'lines',
      refreshInterval: 30,
      timeout: 150,
      signal: signal(),
      logger,
    });
    await source.ready();
    server.set('/slow', { hang: true });
    await until('a timed-out refresh', () => logger.warnings.length > 0);
    expect(logger.warnings[0]).toMatch(/no complete answer within 150 ms/);
    expect(source.contains('198.51.100.7')).toBe(true);
  });

  it('the timeout holds even when an injected fetch ignores the abort signal', async () => {
    const source = fromUrl('https://lists.invalid/never', {
      format: 'lines',
      timeout: 100,
      fetch: () => new Promise<Response>(() => undefined),
      signal: signal(),
      logger: recordingLogger(),
    });
    await expect(source.ready()).rejects.toThrow(/no complete answer within 100 ms/);
  });

  it('aborting the signal stops the refreshes', async () => {
    server.set('/abort', '198.51.100.0/24');
    const controller = new AbortController();
    const source = fromUrl(server.url('/abort'), {
      format: 'lines',
      refreshInterval: 30,
      signal: controller.signal,
      logger: recordingLogger(),
    });
    await source.ready();
    await nextLoads('/abort', 2);
    controller.abort();
    await new Promise((done) => setTimeout(done, 60));
    const hits = server.hits('/abort');
    await new Promise((done) => setTimeout(done, 200));
    expect(server.hits('/abort')).toBe(hits);
    // The last good list is still answered: aborting stops refreshes, not trust.
    expect(source.contains('198.51.100.7')).toBe(true);
  });

  it('a signal aborted before the first load fails it', async () => {
    server.set('/aborted', '198.51.100.0/24');
    const source = fromUrl(server.url('/aborted'), {
      format: 'lines',
      signal: AbortSignal.abort(new Error('shutting down')),
      logger: recordingLogger(),
    });
    await expect(source.ready()).rejects.toThrow(/shutting down/);
    expect(server.hits('/aborted')).toBe(0);
  });

  it('the refresh timer does not keep the process alive (it is unref’d)', async () => {
    server.set('/ips-v4', fixture('cloudflare-ips-v4'));
    // A separate Node process: it loads the list, prints the ranges and must
    // then exit by itself, with its next refresh an hour away.
    const script = [
      `import { cloudflare } from ${JSON.stringify(join(__dirname, 'index.ts'))};`,
      `const source = cloudflare({ urls: [${JSON.stringify(server.url('/ips-v4'))}] });`,
      'await source.ready();',
      'console.log(source.ranges().length);',
    ].join('\n');
    // Starting tsx on a loaded machine takes a while; what counts is the
    // time between the list being loaded and the process ending.
    const { code, output, loadedAt } = await runScript(script);
    expect({ code, output }).toEqual({ code: 0, output: '15' });
    expect(Date.now() - loadedAt).toBeLessThan(8_000);
  }, 90_000);
});
