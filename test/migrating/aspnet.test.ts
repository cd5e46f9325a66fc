/**
 * docs/migrating/aspnet.md, our side of each row: there is no .NET here, so
 * ASP.NET Core does not run beside us. Instead each row takes a behaviour
 * Microsoft documents for ForwardedHeadersOptions (the page and the words are
 * in the guide), gives the guide's options to an Express app, sends the
 * request the documentation describes over a real socket, and checks that
 * the app sees what the documentation says ASP.NET Core gives; where the
 * guide says we differ, that we do.
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { compileOptions, WaitressProxyConfigError } from '@waitress-proxy/core';
import { waitressProxy } from '@waitress-proxy/express';
import type { WaitressProxyOptions } from '@waitress-proxy/express';

/** Loopback addresses stand for the proxies: any of 127.0.0.0/8 can be a source. */
const PROXY = '127.0.0.2';
const STRANGER = '127.0.0.3';
const MICROSOFT_EXAMPLE_PROXY = '127.0.10.1';
const XFF_XFP = ['x-forwarded-for', 'x-forwarded-proto'];

interface Seen {
  status: number;
  ip?: string;
  protocol?: string;
  hostname?: string;
  clientPort?: number;
  peerAddress?: string;
  prefix?: string;
  headers?: Record<string, string>;
}

async function see(
  options: WaitressProxyOptions,
  from: string,
  headers: Record<string, string>,
  listenOn = '127.0.0.1',
): Promise<Seen> {
  const app = express();
  app.use(waitressProxy({ ...options, logger: { warn() {} } }));
  app.use((req: Request, res: Response) => {
    res.json({
      ip: req.ip,
      protocol: req.protocol,
      hostname: req.hostname,
      clientPort: req.forwarded?.clientPort,
      peerAddress: req.forwarded?.peerAddress,
      prefix: req.forwarded?.prefix,
      headers: req.headers,
    });
  });
  app.use((error: { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    res.status(error.status ?? 500).json({});
  });
  const server = createServer(app);
  await new Promise<void>((done) => server.listen(0, listenOn, done));
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise<Seen>((done, fail) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          localAddress: from,
          path: '/',
          agent: false,
          headers: { host: 'app.internal', ...headers },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => {
            done({ status: res.statusCode ?? 0, ...(JSON.parse(body) as Omit<Seen, 'status'>) });
          });
        },
      );
      req.on('error', fail);
      req.end();
    });
  } finally {
    server.close();
  }
}

/** The defaults with the usual flags: KnownProxies ::1, KnownNetworks 127.0.0.0/8, ForwardLimit 1. */
const DEFAULTS: WaitressProxyOptions = {
  trustedProxy: 'loopback',
  trustedProxyCount: 1,
  requireTrustedHops: true,
  trustedProxyHeaders: XFF_XFP,
};

/** Microsoft's example: ForwardLimit 2 and KnownProxies 127.0.10.1, beside the defaults. */
const MICROSOFT_EXAMPLE: WaitressProxyOptions = {
  trustedProxy: ['loopback', MICROSOFT_EXAMPLE_PROXY],
  trustedProxyCount: 2,
  requireTrustedHops: true,
  trustedProxyHeaders: XFF_XFP,
};

/** KnownProxies cleared and set to the one proxy. */
const ONE_PROXY: WaitressProxyOptions = {
  trustedProxy: [PROXY],
  trustedProxyCount: 1,
  requireTrustedHops: true,
  trustedProxyHeaders: XFF_XFP,
};

/** ASPNETCORE_FORWARDEDHEADERS_ENABLED=true: both flags, both lists cleared. */
const FORWARDEDHEADERS_ENABLED: WaitressProxyOptions = {
  trustedProxy: '*',
  trustedProxyHeaders: XFF_XFP,
};

type Row = readonly [
  documented: string,
  options: WaitressProxyOptions,
  from: string,
  headers: Record<string, string>,
  expected: Partial<Seen>,
];

const ROWS: readonly Row[] = [
  [
    'ForwardLimit 1 (default): only the rightmost value is processed',
    DEFAULTS,
    PROXY,
    { 'x-forwarded-for': '198.51.100.7, 203.0.113.7', 'x-forwarded-proto': 'https' },
    { status: 200, ip: '203.0.113.7', protocol: 'https' },
  ],
  [
    'ForwardLimit 2 from a known proxy: two entries from the right, through a known one',
    MICROSOFT_EXAMPLE,
    MICROSOFT_EXAMPLE_PROXY,
    { 'x-forwarded-for': '203.0.113.9, 198.51.100.7, 127.0.0.5', 'x-forwarded-proto': 'https' },
    { status: 200, ip: '198.51.100.7', protocol: 'https' },
  ],
  [
    'ForwardLimit 2: stops at the first unknown address, keeping what it processed',
    MICROSOFT_EXAMPLE,
    MICROSOFT_EXAMPLE_PROXY,
    { 'x-forwarded-for': '203.0.113.9, 198.51.100.7, 10.9.9.9' },
    { status: 200, ip: '10.9.9.9' },
  ],
  [
    'ForwardLimit null: every entry from the right while each is a known proxy',
    { ...MICROSOFT_EXAMPLE, trustedProxyCount: Infinity },
    PROXY,
    { 'x-forwarded-for': '203.0.113.9, 198.51.100.7, 127.0.0.6, 127.0.0.5' },
    { status: 200, ip: '198.51.100.7' },
  ],
  [
    "an unknown proxy's X-Forwarded-For and -Proto are ignored (8.0.17, 9.0.6), and removed here",
    ONE_PROXY,
    STRANGER,
    { 'x-forwarded-for': '203.0.113.66', 'x-forwarded-proto': 'https' },
    { status: 200, ip: STRANGER, protocol: 'http' },
  ],
  [
    'an X-Forwarded-For entry with an IPv4 address and a port',
    ONE_PROXY,
    PROXY,
    { 'x-forwarded-for': '203.0.113.7:4711' },
    { status: 200, ip: '203.0.113.7', clientPort: 4711 },
  ],
  [
    'an X-Forwarded-For entry with a bracketed IPv6 address and a port',
    ONE_PROXY,
    PROXY,
    { 'x-forwarded-for': '[2001:db8::1]:4711' },
    { status: 200, ip: '2001:db8::1', clientPort: 4711 },
  ],
  [
    'ASPNETCORE_FORWARDEDHEADERS_ENABLED: any peer, the rightmost entry',
    FORWARDEDHEADERS_ENABLED,
    STRANGER,
    { 'x-forwarded-for': '198.51.100.7, 203.0.113.7', 'x-forwarded-proto': 'https' },
    { status: 200, ip: '203.0.113.7', protocol: 'https' },
  ],
  [
    'AllowedHosts *.contoso.com: a subdomain is applied',
    {
      ...ONE_PROXY,
      trustedProxyHeaders: [...XFF_XFP, 'x-forwarded-host'],
      allowedHosts: '*.contoso.com',
    },
    PROXY,
    { 'x-forwarded-host': 'foo.contoso.com' },
    { status: 200, hostname: 'foo.contoso.com' },
  ],
  [
    'XForwardedPrefix: the prefix becomes the path base',
    { ...ONE_PROXY, trustedProxyHeaders: [...XFF_XFP, 'x-forwarded-prefix'] },
    PROXY,
    { 'x-forwarded-prefix': '/app' },
    { status: 200, prefix: '/app' },
  ],
];

describe('ASP.NET Core ForwardedHeadersOptions → waitress-proxy: the documented behaviour', () => {
  it.each(ROWS)('%s', async (_documented, options, from, headers, expected) => {
    expect(await see(options, from, headers)).toMatchObject(expected);
  });
});

describe('a dual-mode socket', () => {
  it('an IPv4 KnownProxies entry matches the IPv4-mapped peer of a server listening on ::', async () => {
    const seen = await see(ONE_PROXY, PROXY, { 'x-forwarded-for': '203.0.113.7' }, '::');
    expect(seen).toMatchObject({ status: 200, ip: '203.0.113.7', peerAddress: PROXY });
  });
});

describe('where the guide says we differ', () => {
  it('AllowedHosts: the root domain is refused with a 400, where ASP.NET Core does not apply it', async () => {
    const options = {
      ...ONE_PROXY,
      trustedProxyHeaders: [...XFF_XFP, 'x-forwarded-host'],
      allowedHosts: '*.contoso.com',
    };
    expect(await see(options, PROXY, { 'x-forwarded-host': 'contoso.com' })).toEqual({
      status: 400,
    });
  });

  it('an unparsable X-Forwarded-For entry is a 400, where ASP.NET Core stops and keeps the peer', async () => {
    expect(await see(ONE_PROXY, PROXY, { 'x-forwarded-for': 'not-an-ip' })).toEqual({
      status: 400,
    });
  });

  it('several X-Forwarded-Proto values are a 400, where ASP.NET Core pairs them with the addresses', async () => {
    const headers = {
      'x-forwarded-for': '198.51.100.7, 127.0.0.5',
      'x-forwarded-proto': 'https, http',
    };
    expect(await see(MICROSOFT_EXAMPLE, PROXY, headers)).toEqual({ status: 400 });
  });

  it('X-Forwarded-For keeps the trusted window, not the unconsumed part; no X-Original-For is written', async () => {
    const seen = await see(DEFAULTS, PROXY, { 'x-forwarded-for': '198.51.100.7, 203.0.113.7' });
    expect(seen.headers?.['x-forwarded-for']).toBe('203.0.113.7');
    expect(seen.headers?.['x-original-for']).toBeUndefined();
    expect(seen.peerAddress).toBe(PROXY);
  });

  it("a client's X-Original-For reaches the app as it came: read peerAddress instead", async () => {
    const seen = await see(DEFAULTS, PROXY, { 'x-original-for': '6.6.6.6:1' });
    expect(seen.headers?.['x-original-for']).toBe('6.6.6.6:1');
    expect(seen.peerAddress).toBe(PROXY);
  });

  it("a stranger's X-Forwarded-* are removed, not only ignored", async () => {
    const seen = await see(ONE_PROXY, STRANGER, {
      'x-forwarded-for': '203.0.113.66',
      'x-forwarded-proto': 'https',
    });
    expect(seen.headers?.['x-forwarded-for']).toBeUndefined();
    expect(seen.headers?.['x-forwarded-proto']).toBeUndefined();
  });

  it('ForwardedForHeaderName has no equivalent: another header name throws at start-up', () => {
    expect(() =>
      compileOptions({
        trustedProxy: 'loopback',
        trustedProxyHeaders: ['x-forwarded-for-my-custom-header-name'],
      }),
    ).toThrow(WaitressProxyConfigError);
  });
});
