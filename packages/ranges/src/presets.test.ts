/**
 * Each preset reads its provider's list in the provider's real format
 * (fixtures/), served by a real HTTP server on 127.0.0.1; nothing here
 * reaches the providers.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WaitressProxyConfigError } from '@waitress-proxy/core';
import {
  AWS_IP_RANGES_URL,
  CLOUDFLARE_URLS,
  FASTLY_IP_LIST_URL,
  cloudflare,
  cloudfront,
  fastly,
  fromFile,
  fromUrl,
} from './index.js';
import type { RangeSource } from './index.js';
import { fixture, recordingLogger, startListServer } from './test-support.js';
import type { ListServer } from './test-support.js';

let server: ListServer;
const controller = new AbortController();
const common = () => ({ signal: controller.signal, logger: recordingLogger() });

beforeAll(async () => {
  server = await startListServer();
  server.set('/ips-v4', fixture('cloudflare-ips-v4'));
  server.set('/ips-v6', fixture('cloudflare-ips-v6'));
  server.set('/ip-ranges.json', fixture('aws-ip-ranges.json'));
  server.set('/public-ip-list', fixture('fastly-public-ip-list.json'));
});

afterAll(async () => {
  controller.abort();
  await server.close();
});

function expectTrusts(source: RangeSource, table: Record<string, boolean>): void {
  const answers = Object.fromEntries(
    Object.keys(table).map((address) => [address, source.contains(address)]),
  );
  expect(answers).toEqual(table);
}

describe('presets read the providers’ published formats', () => {
  it('cloudflare(): ips-v4 and ips-v6, one CIDR a line, merged', async () => {
    const source = cloudflare({
      ...common(),
      urls: [server.url('/ips-v4'), server.url('/ips-v6')],
    });
    expect(source.contains('173.245.48.1')).toBe(false); // not loaded yet
    await source.ready();
    expect(source.ranges()).toHaveLength(22);
    expect(source.ranges()).toContain('2a06:98c0::/29');
    expectTrusts(source, {
      '173.245.48.1': true,
      '104.23.255.255': true,
      '131.0.75.255': true,
      '131.0.76.0': false,
      '2606:4700::6810:84e5': true,
      '2a06:98c7:ffff::1': true,
      '2a06:98c8::1': false,
      '8.8.8.8': false,
      '127.0.0.1': false,
      localhost: false,
    });
  });

  it('cloudfront(): ip-ranges.json, only the CLOUDFRONT service, IPv4 and IPv6', async () => {
    const source = cloudfront({ ...common(), url: server.url('/ip-ranges.json') });
    await source.ready();
    expect(source.ranges()).toEqual([
      '13.32.0.0/15',
      '52.84.0.0/15',
      '130.176.0.0/18',
      '2600:9000::/28',
    ]);
    expectTrusts(source, {
      '13.33.1.1': true,
      '52.85.255.1': true,
      '2600:900f:1::1': true,
      '3.5.140.1': false, // AMAZON only
      '15.230.39.1': false, // EC2
      '2600:1f14::1': false, // EC2
    });
  });

  it("cloudfront({ service: 'CLOUDFRONT_ORIGIN_FACING' }): the narrower set", async () => {
    const source = cloudfront({
      ...common(),
      url: server.url('/ip-ranges.json'),
      service: 'CLOUDFRONT_ORIGIN_FACING',
    });
    await source.ready();
    expect(source.ranges()).toEqual(['130.176.0.0/18']);
  });

  it('fastly(): public-ip-list, addresses and ipv6_addresses', async () => {
    const source = fastly({ ...common(), url: server.url('/public-ip-list') });
    await source.ready();
    expect(source.ranges()).toHaveLength(21);
    expectTrusts(source, {
      '151.101.1.57': true,
      '199.232.0.1': true,
      '2a04:4e42:200::313': true,
      '2a04:4e41::1': false,
      '1.1.1.1': false,
    });
  });

  it('contains() also answers an IPv4-mapped IPv6 form, as the core’s static lists do', async () => {
    const source = fastly({ ...common(), url: server.url('/public-ip-list') });
    await source.ready();
    expect(source.contains('::ffff:151.101.1.57')).toBe(true);
  });

  it('fromUrl(url, { format: fn }): any JSON shape through a function', async () => {
    server.set('/custom.json', JSON.stringify({ egress: { v4: ['192.0.2.0/24'] } }));
    const source = fromUrl(server.url('/custom.json'), {
      ...common(),
      format: (body) => (JSON.parse(body) as { egress: { v4: string[] } }).egress.v4,
    });
    await source.ready();
    expectTrusts(source, { '192.0.2.77': true, '192.0.3.1': false });
  });

  it("fromFile(path, { format: 'lines' }): comments, blank lines, CRLF, bare addresses", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ranges-'));
    try {
      const path = join(dir, 'egress.txt');
      writeFileSync(path, '# our load balancers\r\n\r\n198.51.100.0/24\r\n  2001:db8::10  \r\n');
      const source = fromFile(path, { ...common(), format: 'lines' });
      await source.ready();
      expect(source.ranges()).toEqual(['198.51.100.0/24', '2001:db8::10/128']);
      expectTrusts(source, { '198.51.100.9': true, '2001:db8::10': true, '2001:db8::11': false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('duplicate and overlapping ranges are accepted; duplicates are dropped, host bits cleared', async () => {
    server.set(
      '/dup',
      '10.1.0.0/16\n10.1.0.0/16\n10.1.2.3/16\n10.1.2.0/24\n2001:DB8::/32\n2001:db8::/32',
    );
    const source = fromUrl(server.url('/dup'), { ...common(), format: 'lines' });
    await source.ready();
    expect(source.ranges()).toEqual(['10.1.0.0/16', '10.1.2.0/24', '2001:db8::/32']);
    expectTrusts(source, { '10.1.200.1': true, '10.2.0.1': false });
  });

  it('a redirect within the list’s origin is followed (Cloudflare moved /ips-v4 to /ips-v4/ once)', async () => {
    server.set('/moved', { status: 301, headers: { location: '/ips-v4' } });
    const source = cloudflare({ ...common(), urls: [server.url('/moved')] });
    await source.ready();
    expect(source.contains('173.245.48.1')).toBe(true);
  });

  it('the presets default to the providers’ own URLs over HTTPS', () => {
    expect({ CLOUDFLARE_URLS, AWS_IP_RANGES_URL, FASTLY_IP_LIST_URL }).toEqual({
      CLOUDFLARE_URLS: ['https://www.cloudflare.com/ips-v4', 'https://www.cloudflare.com/ips-v6'],
      AWS_IP_RANGES_URL: 'https://ip-ranges.amazonaws.com/ip-ranges.json',
      FASTLY_IP_LIST_URL: 'https://api.fastly.com/public-ip-list',
    });
  });

  it('an injected fetch is used instead of the network', async () => {
    const asked: string[] = [];
    const source = cloudflare({
      ...common(),
      fetch: (url) => {
        asked.push(url);
        return Promise.resolve(
          new Response(url.endsWith('v4') ? '198.51.100.0/24' : '2001:db8::/32'),
        );
      },
    });
    await source.ready();
    expect(asked).toEqual([
      'https://www.cloudflare.com/ips-v4',
      'https://www.cloudflare.com/ips-v6',
    ]);
    expect(source.ranges()).toEqual(['198.51.100.0/24', '2001:db8::/32']);
  });
});

describe('bad configuration throws at creation, saying what to write', () => {
  it.each([
    [
      'a plain-http URL off loopback',
      () => fromUrl('http://lists.example/x', { format: 'lines' }),
      /must be an https: URL/,
    ],
    ['a file: URL', () => fromUrl('file:///etc/ranges', { format: 'lines' }), /fromFile/],
    ['not a URL', () => fastly({ url: 'ranges' }), /is not a URL/],
    [
      'url given to cloudflare()',
      () => cloudflare({ url: 'https://x.example' } as never),
      /Did you mean `urls`\?/,
    ],
    [
      'an unknown option',
      () => fastly({ refresh: 1000 } as never),
      /unsupported option, `refresh`/,
    ],
    [
      'refreshInterval 0',
      () => fastly({ refreshInterval: 0 }),
      /refreshInterval must be a positive number/,
    ],
    ['refreshInterval negative', () => fastly({ refreshInterval: -5 }), /refreshInterval/],
    [
      'refreshInterval beyond a timer',
      () => fastly({ refreshInterval: 2 ** 31 }),
      /up to 2147483647/,
    ],
    ['timeout NaN', () => fastly({ timeout: Number.NaN }), /timeout must be/],
    ['widestPrefix 0', () => fastly({ widestPrefix: { ipv4: 0 } }), /a \/0 is never accepted/],
    [
      'an unknown format',
      () => fromUrl('https://x.example/', { format: 'json' as never }),
      /format must be 'lines'/,
    ],
    ['no logger.warn', () => fastly({ logger: {} as never }), /warn\(message\)/],
    ['empty urls', () => cloudflare({ urls: [] }), /non-empty array/],
  ])('%s', (_name, create, message) => {
    expect(create).toThrow(WaitressProxyConfigError);
    expect(create).toThrow(message);
  });
});
