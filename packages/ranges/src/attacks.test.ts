/**
 * What an attacker, a broken network or a broken publisher can put in a
 * list, served over a real socket as the first load: every one of them is
 * refused whole, `ready()` rejects with the reason, and nothing is trusted.
 * (A refresh that brings them is in refresh.test.ts: the last good list
 * stays.)
 */
import { cloudflare, cloudfront, fastly, fromUrl, RangeLoadError } from './index.js';
import type { RangeLoadErrorCode, RangeSource } from './index.js';
import { fixture, recordingLogger, startListServer } from './test-support.js';
import type { ListServer, Reply } from './test-support.js';

let server: ListServer;
let other: ListServer;
const controller = new AbortController();

beforeAll(async () => {
  server = await startListServer();
  other = await startListServer();
  other.set('/ips', '0.0.0.0/0');
});

afterAll(async () => {
  controller.abort();
  await server.close();
  await other.close();
});

type Make = (url: string) => RangeSource;
const common = { signal: controller.signal, logger: recordingLogger(), timeout: 500 };
const lines: Make = (url) => fromUrl(url, { ...common, format: 'lines' });
const cf: Make = (url) => cloudflare({ ...common, urls: [url] });
const aws: Make = (url) => cloudfront({ ...common, url });
const fst: Make = (url) => fastly({ ...common, url });

const CAPTIVE_PORTAL =
  '<!DOCTYPE html>\n<html><head><title>Hotel Wi-Fi</title></head>\n<body>Please log in</body></html>\n';

const cases: [string, Make, Reply | string, RangeLoadErrorCode, RegExp, string[]][] = [
  [
    'a list of 0.0.0.0/0',
    cf,
    '0.0.0.0/0',
    'WAITRESS_PROXY_RANGES_REFUSED',
    /"0\.0\.0\.0\/0" is wider than \/8/,
    ['8.8.8.8'],
  ],
  [
    'a list of ::/0',
    cf,
    '::/0',
    'WAITRESS_PROXY_RANGES_REFUSED',
    /wider than \/29 for IPv6/,
    ['2001:db8::1'],
  ],
  [
    'a good list with 0.0.0.0/0 added',
    cf,
    `${fixture('cloudflare-ips-v4')}\n0.0.0.0/0`,
    'WAITRESS_PROXY_RANGES_REFUSED',
    /wider than \/8/,
    ['173.245.48.1', '8.8.8.8'],
  ],
  [
    'a Cloudflare list adding loopback',
    cf,
    `${fixture('cloudflare-ips-v4')}\n127.0.0.0/8`,
    'WAITRESS_PROXY_RANGES_REFUSED',
    /"127\.0\.0\.0\/8" overlaps 127\.0\.0\.0\/8, which is not public/,
    ['127.0.0.1', '173.245.48.1'],
  ],
  [
    'a Fastly list adding a private /8',
    fst,
    '{"addresses":["151.101.0.0/16","10.0.0.0/8"],"ipv6_addresses":[]}',
    'WAITRESS_PROXY_RANGES_REFUSED',
    /overlaps 10\.0\.0\.0\/8/,
    ['10.1.2.3', '151.101.0.1'],
  ],
  [
    'a CloudFront list adding a range that holds private space',
    aws,
    '{"prefixes":[{"ip_prefix":"172.0.0.0/8","service":"CLOUDFRONT"}],"ipv6_prefixes":[]}',
    'WAITRESS_PROXY_RANGES_REFUSED',
    /overlaps 172\.16\.0\.0\/12/,
    ['172.16.0.1', '172.1.0.1'],
  ],
  [
    'a Cloudflare list adding ::1',
    cf,
    '2400:cb00::/32\n::1/128',
    'WAITRESS_PROXY_RANGES_REFUSED',
    /overlaps ::\/127/,
    ['::1'],
  ],
  [
    'a Cloudflare list adding unique-local IPv6',
    cf,
    '2400:cb00::/32\nfd00::/48',
    'WAITRESS_PROXY_RANGES_REFUSED',
    /overlaps fc00::\/7/,
    ['fd00::1'],
  ],
  [
    'an IPv4 /7',
    lines,
    '10.0.0.0/7',
    'WAITRESS_PROXY_RANGES_REFUSED',
    /widestPrefix: \{ ipv4: 7 \}/,
    ['10.0.0.1'],
  ],
  [
    'an IPv6 /31 (generic limit /32)',
    lines,
    '2001:db8::/31',
    'WAITRESS_PROXY_RANGES_REFUSED',
    /widestPrefix: \{ ipv6: 31 \}/,
    ['2001:db8::1'],
  ],
  [
    'every IPv4 address as IPv4-mapped IPv6',
    lines,
    '::ffff:0.0.0.0/96',
    'WAITRESS_PROXY_RANGES_MALFORMED',
    /IPv4-mapped/,
    ['8.8.8.8', '::ffff:8.8.8.8'],
  ],
  [
    'a name the core would widen: *',
    lines,
    '*',
    'WAITRESS_PROXY_RANGES_MALFORMED',
    /"\*" is not an IP address/,
    ['8.8.8.8'],
  ],
  [
    'a name the core would widen: loopback',
    lines,
    'loopback',
    'WAITRESS_PROXY_RANGES_MALFORMED',
    /"loopback"/,
    ['127.0.0.1'],
  ],
  [
    'a netmask form',
    lines,
    '10.0.0.0/255.0.0.0',
    'WAITRESS_PROXY_RANGES_MALFORMED',
    /not an IP address or CIDR/,
    ['10.0.0.1'],
  ],
  [
    'two ranges on one line',
    lines,
    '10.0.0.0/16, 10.1.0.0/16',
    'WAITRESS_PROXY_RANGES_MALFORMED',
    /not an IP address or CIDR/,
    ['10.0.0.1'],
  ],
  [
    'a zone identifier',
    lines,
    'fe80::1%eth0',
    'WAITRESS_PROXY_RANGES_MALFORMED',
    /not an IP address/,
    ['fe80::1'],
  ],
  [
    'leading zeros (octal to some resolvers)',
    lines,
    '010.0.0.0/24',
    'WAITRESS_PROXY_RANGES_MALFORMED',
    /not an IP address/,
    ['10.0.0.1', '8.0.0.1'],
  ],
  [
    'a prefix longer than 32',
    lines,
    '10.0.0.0/33',
    'WAITRESS_PROXY_RANGES_MALFORMED',
    /longer than 32/,
    ['10.0.0.0'],
  ],
  [
    'bad CIDRs mixed with good ones',
    cf,
    '173.245.48.0/20\n103.21.244.0/33\n104.16.0.0/13',
    'WAITRESS_PROXY_RANGES_MALFORMED',
    /"103\.21\.244\.0\/33"/,
    ['173.245.48.1', '104.16.0.1'],
  ],
  [
    'an HTML captive portal page with status 200',
    cf,
    CAPTIVE_PORTAL,
    'WAITRESS_PROXY_RANGES_MALFORMED',
    /"<!DOCTYPE html>" is not an IP address/,
    [],
  ],
  [
    'an HTML page for a JSON list',
    aws,
    CAPTIVE_PORTAL,
    'WAITRESS_PROXY_RANGES_MALFORMED',
    /not JSON \(it starts "<!DOCTYPE/,
    [],
  ],
  [
    'a 500 error page',
    cf,
    { status: 500, body: fixture('cloudflare-ips-v4') },
    'WAITRESS_PROXY_RANGES_FETCH_FAILED',
    /status 500/,
    ['173.245.48.1'],
  ],
  [
    'a 404',
    fst,
    { status: 404, body: '{}' },
    'WAITRESS_PROXY_RANGES_FETCH_FAILED',
    /status 404/,
    [],
  ],
  ['an empty body', cf, '', 'WAITRESS_PROXY_RANGES_REFUSED', /holds no range/, []],
  [
    'only comments',
    lines,
    '# nothing here\n\n',
    'WAITRESS_PROXY_RANGES_REFUSED',
    /holds no range/,
    [],
  ],
  [
    'ip-ranges.json without a CLOUDFRONT entry',
    aws,
    '{"prefixes":[{"ip_prefix":"3.5.140.0/22","service":"AMAZON"}],"ipv6_prefixes":[]}',
    'WAITRESS_PROXY_RANGES_REFUSED',
    /holds no range/,
    ['3.5.140.1'],
  ],
  [
    'truncated ip-ranges.json',
    aws,
    fixture('aws-ip-ranges.json').slice(0, 600),
    'WAITRESS_PROXY_RANGES_MALFORMED',
    /not JSON/,
    ['13.32.0.1'],
  ],
  [
    'ip-ranges.json whose prefixes is not an array',
    aws,
    '{"prefixes":"13.32.0.0/15","ipv6_prefixes":[]}',
    'WAITRESS_PROXY_RANGES_MALFORMED',
    /"prefixes" is not an array/,
    ['13.32.0.1'],
  ],
  [
    'a CLOUDFRONT entry without ip_prefix',
    aws,
    '{"prefixes":[{"service":"CLOUDFRONT","ip_prefix":["0.0.0.0/0"]}],"ipv6_prefixes":[]}',
    'WAITRESS_PROXY_RANGES_MALFORMED',
    /no "ip_prefix" string/,
    ['8.8.8.8'],
  ],
  [
    'public-ip-list with a number',
    fst,
    '{"addresses":["151.101.0.0/16",42],"ipv6_addresses":[]}',
    'WAITRESS_PROXY_RANGES_MALFORMED',
    /a number where a CIDR range was expected/,
    ['151.101.0.1'],
  ],
  [
    'public-ip-list as a JSON array',
    fst,
    '["151.101.0.0/16"]',
    'WAITRESS_PROXY_RANGES_MALFORMED',
    /not a JSON object/,
    ['151.101.0.1'],
  ],
  [
    'public-ip-list without ipv6_addresses',
    fst,
    '{"addresses":["151.101.0.0/16"]}',
    'WAITRESS_PROXY_RANGES_MALFORMED',
    /"ipv6_addresses" is not an array/,
    ['151.101.0.1'],
  ],
  [
    'a body that is not UTF-8',
    lines,
    { body: Buffer.from([0x31, 0x30, 0xff, 0x2e]) },
    'WAITRESS_PROXY_RANGES_MALFORMED',
    /not UTF-8/,
    [],
  ],
  [
    'a redirect to another origin',
    cf,
    { status: 302, headers: { location: 'OTHER/ips' } },
    'WAITRESS_PROXY_RANGES_FETCH_FAILED',
    /redirect to another origin \(http:\/\/127\.0\.0\.1:\d+\) refused/,
    ['8.8.8.8'],
  ],
  [
    'a redirect loop',
    cf,
    { status: 301, headers: { location: 'SELF' } },
    'WAITRESS_PROXY_RANGES_FETCH_FAILED',
    /redirect not followed \(too many\)/,
    [],
  ],
  [
    'a redirect without Location',
    cf,
    { status: 302 },
    'WAITRESS_PROXY_RANGES_FETCH_FAILED',
    /no valid Location/,
    [],
  ],
  [
    'a huge body with Content-Length',
    lines,
    { body: '10.0.0.0/16\n'.repeat(1000), headers: { 'content-length': '12000' } },
    'WAITRESS_PROXY_RANGES_REFUSED',
    /larger than 4096 bytes/,
    ['10.0.0.1'],
  ],
  [
    'a huge streamed body without Content-Length',
    lines,
    { streamBytes: 64 * 1024 * 1024 },
    'WAITRESS_PROXY_RANGES_REFUSED',
    /larger than 4096 bytes/,
    [],
  ],
  [
    'a server that never finishes the body (timeout 500 ms)',
    lines,
    { hang: true },
    'WAITRESS_PROXY_RANGES_FETCH_FAILED',
    /no complete answer within 500 ms/,
    ['173.245.48.1'],
  ],
];

describe('a first load that must be refused', () => {
  it.each(cases)('%s', async (_name, make, reply, code, message, probes) => {
    const path = `/case-${cases.findIndex((row) => row[0] === _name)}`;
    const location = typeof reply === 'object' ? reply.headers?.location : undefined;
    const resolved =
      typeof reply === 'object' && location !== undefined
        ? {
            ...reply,
            headers: { location: location.replace('OTHER', other.origin).replace('SELF', path) },
          }
        : reply;
    server.set(path, resolved);
    const huge = typeof reply === 'object' && (reply.streamBytes ?? reply.body?.length ?? 0) > 4096;
    const source = huge
      ? fromUrl(server.url(path), { ...common, format: 'lines', maxBytes: 4096 })
      : make(server.url(path));
    const failure = await source.ready().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(RangeLoadError);
    expect(failure).toMatchObject({ code, message: expect.stringMatching(message) as string });
    expect(source.ranges()).toEqual([]);
    for (const address of probes)
      expect([address, source.contains(address)]).toEqual([address, false]);
  });

  it.each([
    ['throws an Error', () => JSON.parse('<html>') as string[]],
    [
      'throws a string',
      () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw 'not our list';
      },
    ],
    ['returns something that is not iterable', () => 42 as unknown as string[]],
  ])('a format function that %s refuses the list as malformed', async (_name, format) => {
    server.set('/format', '<html></html>');
    const source = fromUrl(server.url('/format'), { ...common, format });
    await expect(source.ready()).rejects.toMatchObject({
      code: 'WAITRESS_PROXY_RANGES_MALFORMED',
      message: expect.stringMatching(
        /the format refused the body: .+; the whole list is refused/,
      ) as string,
    });
  });

  it('::192.0.2.1 is the IPv6 address ::c000:201, not the IPv4-mapped ::ffff:192.0.2.1', async () => {
    // ipaddr.js alone reads every dotted tail as IPv4-mapped; the core's
    // parseIPv6 does not, so the entry means what it says and no IPv4 peer
    // matches it.
    server.set('/dotted-tail', '::192.0.2.1/128\n');
    const source = fromUrl(server.url('/dotted-tail'), { ...common, format: 'lines' });
    await source.ready();
    expect(source.ranges()).toEqual(['::c000:201/128']);
    expect([source.contains('::c000:201'), source.contains('192.0.2.1')]).toEqual([true, false]);
  });

  it('fromUrl accepts private ranges (your own load balancers) unless publicOnly is set', async () => {
    server.set('/private', '10.0.0.0/16\n');
    const open = fromUrl(server.url('/private'), { ...common, format: 'lines' });
    await open.ready();
    expect(open.contains('10.0.0.1')).toBe(true);
    const strict = fromUrl(server.url('/private'), {
      ...common,
      format: 'lines',
      publicOnly: true,
    });
    await expect(strict.ready()).rejects.toThrow(/overlaps 10\.0\.0\.0\/8/);
  });

  it('a list longer than maxRanges is refused whole', async () => {
    server.set('/long', '10.0.0.0/24\n10.0.1.0/24\n10.0.2.0/24\n10.0.3.0/24\n');
    const source = fromUrl(server.url('/long'), { ...common, format: 'lines', maxRanges: 3 });
    await expect(source.ready()).rejects.toMatchObject({
      code: 'WAITRESS_PROXY_RANGES_REFUSED',
      message: expect.stringMatching(/more than 3 ranges \(maxRanges\)/) as string,
    });
    expect(source.contains('10.0.0.1')).toBe(false);
  });

  it('the redirect to another origin was not followed', () => {
    expect(other.hits('/ips')).toBe(0);
  });

  it('a first load that fails is not retried, and a later good list is not picked up', async () => {
    server.set('/late', { status: 503 });
    const logger = recordingLogger();
    const source = fromUrl(server.url('/late'), {
      signal: controller.signal,
      logger,
      format: 'lines',
      refreshInterval: 50,
    });
    await expect(source.ready()).rejects.toThrow(/status 503/);
    server.set('/late', '10.0.0.0/16');
    await new Promise((done) => setTimeout(done, 250));
    expect(server.hits('/late')).toBe(1);
    expect(source.contains('10.0.0.1')).toBe(false);
    expect(logger.warnings).toEqual([
      expect.stringMatching(
        /the first load of fromUrl\(http:\/\/127\.0\.0\.1:\d+\/late\) failed; nothing is trusted through it/,
      ),
    ]);
  });

  it('a failed first load nobody awaits does not crash the process as an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      server.set('/nobody', { status: 500 });
      const source = lines(server.url('/nobody'));
      await new Promise((done) => setTimeout(done, 200));
      expect(source.contains('10.0.0.1')).toBe(false);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
