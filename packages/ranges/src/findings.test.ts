/**
 * The second attacker review's findings, each over a real socket on
 * 127.0.0.1: a list that would block the event loop, a list that silently
 * loses a family, a FIFO as a file, loads that overlap, a long Location in
 * a log line, and special-purpose or oddly spelled ranges.
 */
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cloudflare, fastly, fromFile, fromUrl } from './index.js';
import { recordingLogger, runScript, startListServer, until } from './test-support.js';
import type { ListServer } from './test-support.js';

let server: ListServer;
const controller = new AbortController();
const common = () => ({ signal: controller.signal, logger: recordingLogger(), timeout: 2000 });

beforeAll(async () => {
  server = await startListServer();
});

afterAll(async () => {
  controller.abort();
  await server.close();
});

describe('F1: a large list does not block the event loop', () => {
  it('one range repeated 559 236 times (8 MiB) is refused after maxRanges entries', async () => {
    const line = '2606:4700::/32\n';
    server.set('/repeated', line.repeat(559_236));
    const source = fromUrl(server.url('/repeated'), {
      ...common(),
      format: 'lines',
      maxBytes: 16 * 1024 * 1024,
    });
    const started = performance.now();
    await expect(source.ready()).rejects.toMatchObject({
      code: 'WAITRESS_PROXY_RANGES_REFUSED',
      message: expect.stringMatching(
        /more than 10000 ranges \(maxRanges\), duplicates counted/,
      ) as string,
    });
    // Reading and splitting 8 MiB remains; parsing 559 236 entries (27 s) does not.
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('the presets refuse a body far larger than the provider’s list (64 KiB)', async () => {
    server.set('/big-v6', '2606:4700::/32\n'.repeat(5000));
    const source = cloudflare({ ...common(), urls: [server.url('/big-v6')] });
    await expect(source.ready()).rejects.toThrow(/larger than 65536 bytes \(maxBytes\)/);
  });
});

describe('F2: a list that loses a family or is cut short is refused', () => {
  it('cloudflare(): an empty second list after a good load keeps the IPv6 ranges and warns', async () => {
    server.set('/f2-v4', '104.16.0.0/13\n');
    server.set('/f2-v6', '2606:4700::/32\n');
    const logger = recordingLogger();
    const source = cloudflare({
      ...common(),
      logger,
      urls: [server.url('/f2-v4'), server.url('/f2-v6')],
      refreshInterval: 50,
    });
    await source.ready();
    server.set('/f2-v6', '');
    await until('a refused refresh', () => logger.warnings.length > 0);
    expect(logger.warnings[0]).toMatch(/\/f2-v6 holds no range; the whole list is refused/);
    expect(source.contains('2606:4700::1')).toBe(true);
  });

  it('fastly(): "ipv6_addresses": [] is refused', async () => {
    server.set(
      '/fastly-no-v6',
      JSON.stringify({ addresses: ['23.235.32.0/20'], ipv6_addresses: [] }),
    );
    const source = fastly({ ...common(), url: server.url('/fastly-no-v6') });
    await expect(source.ready()).rejects.toThrow(/holds no IPv6 range/);
  });

  it('a CDN line cut before its prefix length (2a06:98c0::) is refused, not taken as a /128', async () => {
    server.set('/cut', '2606:4700::/32\n2a06:98c0::');
    const source = cloudflare({ ...common(), urls: [server.url('/cut')] });
    await expect(source.ready()).rejects.toThrow(/"2a06:98c0::" has no prefix length/);
  });

  it('a refresh that loses more than half of the ranges is used but warned about', async () => {
    const many = ['104.16.0.0/13', '104.24.0.0/14', '172.64.0.0/13', '131.0.72.0/22'];
    server.set('/shrink', many.join('\n'));
    const logger = recordingLogger();
    const source = fromUrl(server.url('/shrink'), {
      ...common(),
      logger,
      format: 'lines',
      refreshInterval: 50,
    });
    await source.ready();
    server.set('/shrink', many[0] ?? '');
    await until('the shrunk list', () => source.ranges().length === 1);
    expect(logger.warnings.join('\n')).toMatch(/shrank from 4 to 1 ranges/);
  });
});

describe('F3: fromFile() reads only a regular file, within timeout', () => {
  it('a FIFO as the path is refused at once, not waited on forever', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ranges-fifo-'));
    const fifo = join(dir, 'ranges.txt');
    execFileSync('mkfifo', [fifo]);
    try {
      const source = fromFile(fifo, { ...common(), format: 'lines' });
      await expect(source.ready()).rejects.toMatchObject({
        code: 'WAITRESS_PROXY_RANGES_FETCH_FAILED',
        message: expect.stringMatching(/not a regular file/) as string,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('F4: loads of a multi-list source never overlap', () => {
  it('one list failing fast aborts the other one’s GET before the next refresh', async () => {
    let failing = false;
    let open = 0;
    let maxOpen = 0;
    const hanging: Server = createServer((req, res) => {
      if (!failing) {
        res.end(req.url === '/v4' ? '104.16.0.0/13\n' : '2606:4700::/32\n');
        return;
      }
      if (req.url === '/v4') {
        res.writeHead(500);
        res.end();
        return;
      }
      open++;
      maxOpen = Math.max(maxOpen, open);
      req.socket.on('close', () => {
        open--;
      });
    });
    await new Promise<void>((done) => hanging.listen(0, '127.0.0.1', done));
    const { port } = hanging.address() as AddressInfo;
    const logger = recordingLogger();
    const stop = new AbortController();
    try {
      const source = cloudflare({
        logger,
        signal: stop.signal,
        urls: [`http://127.0.0.1:${port}/v4`, `http://127.0.0.1:${port}/v6`],
        refreshInterval: 50,
        timeout: 4000,
      });
      await source.ready();
      failing = true;
      await until('five failed refreshes', () => logger.warnings.length >= 5);
      await new Promise((done) => setTimeout(done, 100));
      expect(maxOpen).toBeLessThanOrEqual(1);
    } finally {
      stop.abort();
      hanging.closeAllConnections();
      await new Promise((done) => hanging.close(done));
    }
  });
});

describe('F5: a refresh in flight does not keep the process alive', () => {
  it('a process whose refresh hangs (timeout 30 s) exits once its own work is done', async () => {
    let requests = 0;
    const hanging: Server = createServer((req, res) => {
      requests++;
      // The first load answers; every refresh hangs with the headers sent.
      if (requests <= 2) {
        res.end(req.url === '/v4' ? '104.16.0.0/13\n' : '2606:4700::/32\n');
        return;
      }
      res.writeHead(200);
      res.write('104.16.0.0/13\n');
    });
    await new Promise<void>((done) => hanging.listen(0, '127.0.0.1', done));
    const { port } = hanging.address() as AddressInfo;
    const script = [
      `import { cloudflare } from ${JSON.stringify(join(__dirname, 'index.ts'))};`,
      `const source = cloudflare({ urls: ['http://127.0.0.1:${port}/v4', 'http://127.0.0.1:${port}/v6'], refreshInterval: 100, timeout: 30000 });`,
      'await source.ready();',
      'console.log(source.ranges().length);',
      // The app's own work: 600 ms, during which a refresh starts and hangs.
      'setTimeout(() => {}, 600);',
    ].join('\n');
    try {
      const { code, output, loadedAt } = await runScript(script);
      expect({ code, output }).toEqual({ code: 0, output: '2' });
      expect(requests).toBeGreaterThan(2);
      expect(Date.now() - loadedAt).toBeLessThan(10_000);
    } finally {
      hanging.closeAllConnections();
      await new Promise((done) => hanging.close(done));
    }
  }, 90_000);
});

describe('F6: a warning line stays short', () => {
  it('a 15 KB Location is cut in the message', async () => {
    // Within the origin, so it is followed, and the next answer is a 404.
    server.set('/long-redirect', {
      status: 302,
      headers: { location: `/${'a'.repeat(15_000)}` },
    });
    const source = fromUrl(server.url('/long-redirect'), { ...common(), format: 'lines' });
    const failure: unknown = await source.ready().catch((error: unknown) => error);
    expect((failure as Error).message).toMatch(/aaaa…" ?: status 404/);
    expect((failure as Error).message.length).toBeLessThan(500);
  });
});

describe('F7: special-purpose blocks and odd spellings', () => {
  it.each([
    ['2001::/32', /overlaps 2001::\/23/],
    ['2001:10::/32', /overlaps 2001::\/23/],
    ['2002:abcd::/32', /overlaps 2002::\/16/],
    ['3fff:100::/32', /overlaps 3fff::\/20/],
    ['64:ff9b:1::/48', /overlaps 64:ff9b:1::\/48/],
    ['5f00:1::/32', /overlaps 5f00::\/16/],
    ['2620:4f:8000::/48', /overlaps 2620:4f:8000::\/48/],
    ['192.88.99.0/24', /overlaps 192\.88\.99\.0\/24/],
    ['192.175.48.0/24', /overlaps 192\.175\.48\.0\/24/],
  ])('a CDN list with %s is refused', async (range, message) => {
    const path = `/special-${range}`;
    server.set(path, `2606:4700::/32\n104.16.0.0/13\n${range}\n`);
    const source = cloudflare({ ...common(), urls: [server.url(path)] });
    await expect(source.ready()).rejects.toThrow(message);
  });

  it.each(['2a06:98c0::010.000.0.1', '::0x7f.0.0.1/128', '2a06:98c0::1.2.3.04/128'])(
    '%s (a dotted quad that is not strict decimal) is refused',
    async (entry) => {
      const path = `/quad-${entry}`;
      server.set(path, `${entry}\n`);
      const source = fromUrl(server.url(path), { ...common(), format: 'lines' });
      await expect(source.ready()).rejects.toMatchObject({
        code: 'WAITRESS_PROXY_RANGES_MALFORMED',
      });
    },
  );
});
