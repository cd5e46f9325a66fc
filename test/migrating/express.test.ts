/**
 * docs/migrating/express.md, held on real requests: for each form of
 * Express's `trust proxy`, the equivalent options give the same `req.ip`,
 * `req.ips`, `req.protocol` and `req.hostname` as Express's own setting for
 * honest traffic through the proxies, on Express 4 and 5; and where ours
 * differs on forged traffic, it does, as the guide says.
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import express4 from 'express4';
import { waitressProxy } from '@waitress-proxy/express';
import type { WaitressProxyOptions } from '@waitress-proxy/express';

const HEADERS = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'];
/** The proxy in front of the app, and a second proxy in front of it. */
const PROXY = '127.0.0.2';
const STRANGER = '127.0.0.3';

type Seen = { ip: string; ips: string[]; protocol: string; hostname: string; xff: string | null };

const VERSIONS = [
  ['Express 5', () => express()],
  ['Express 4', () => express4() as unknown as ReturnType<typeof express>],
] as const;

async function see(
  createApp: () => ReturnType<typeof express>,
  setUp: (app: ReturnType<typeof express>) => void,
  peer: string,
  headers: Record<string, string>,
): Promise<Seen> {
  const app = createApp();
  setUp(app);
  app.get('/', (req, res) => {
    res.json({
      ip: req.ip,
      ips: req.ips,
      protocol: req.protocol,
      hostname: req.hostname,
      xff: req.headers['x-forwarded-for'] ?? null,
    });
  });
  const server = createServer(app);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  try {
    const { port } = server.address() as AddressInfo;
    const response = await new Promise<string>((done, fail) => {
      const socketRequest = request(
        {
          host: '127.0.0.1',
          port,
          localAddress: peer,
          path: '/',
          agent: false,
          headers: { host: 'app.internal', ...headers },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => {
            done(body);
          });
        },
      );
      socketRequest.on('error', fail);
      socketRequest.end();
    });
    return JSON.parse(response) as Seen;
  } finally {
    server.close();
  }
}

/** Express's setting, and the options the guide gives for it. */
const FORMS: readonly (readonly [string, unknown, WaitressProxyOptions])[] = [
  ['true', true, { trustedProxy: '*', trustedProxyCount: Infinity, trustedProxyHeaders: HEADERS }],
  ['a number: 1', 1, { trustedProxy: '*', trustedProxyCount: 1, trustedProxyHeaders: HEADERS }],
  ['a number: 2', 2, { trustedProxy: '*', trustedProxyCount: 2, trustedProxyHeaders: HEADERS }],
  [
    "'loopback'",
    'loopback',
    {
      trustedProxy: 'loopback',
      trustedProxyCount: Infinity,
      requireTrustedHops: true,
      trustedProxyHeaders: HEADERS,
    },
  ],
  [
    'a list with a CIDR',
    ['127.0.0.0/30', '10.0.0.0/8'],
    {
      trustedProxy: ['127.0.0.0/30', '10.0.0.0/8'],
      trustedProxyCount: Infinity,
      requireTrustedHops: true,
      trustedProxyHeaders: HEADERS,
    },
  ],
  [
    'a function of the address',
    (address: string) => address === PROXY || address.startsWith('10.'),
    {
      trustedProxy: (address: string) => address === PROXY || address.startsWith('10.'),
      trustedProxyCount: Infinity,
      requireTrustedHops: true,
      trustedProxyHeaders: HEADERS,
    },
  ],
];

/** Honest traffic: a client behind a CDN hop (10.1.2.3) and the proxy at PROXY. */
const HONEST = {
  'x-forwarded-for': '198.51.100.7, 10.1.2.3',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'shop.example',
};

describe.each(VERSIONS)('%s: trust proxy → waitress-proxy', (_name, createApp) => {
  it.each(FORMS)(
    '%s: the same ip, ips, protocol and hostname for honest traffic',
    async (_form, setting, options) => {
      const theirs = await see(createApp, (app) => app.set('trust proxy', setting), PROXY, HONEST);
      const ours = await see(
        createApp,
        (app) => app.use(waitressProxy({ ...options, logger: { warn() {} } })),
        PROXY,
        HONEST,
      );
      expect({
        ip: ours.ip,
        ips: ours.ips,
        protocol: ours.protocol,
        hostname: ours.hostname,
      }).toEqual({
        ip: theirs.ip,
        ips: theirs.ips,
        protocol: theirs.protocol,
        hostname: theirs.hostname,
      });
    },
  );

  it("an address: a stranger's forged headers are ignored by both, but only ours removes them", async () => {
    const forged = { 'x-forwarded-for': '203.0.113.66', 'x-forwarded-proto': 'https' };
    const theirs = await see(createApp, (app) => app.set('trust proxy', PROXY), STRANGER, forged);
    const ours = await see(
      createApp,
      (app) =>
        app.use(
          waitressProxy({
            trustedProxy: PROXY,
            trustedProxyCount: Infinity,
            requireTrustedHops: true,
            trustedProxyHeaders: HEADERS,
            logger: { warn() {} },
          }),
        ),
      STRANGER,
      forged,
    );
    expect(theirs).toMatchObject({ ip: STRANGER, protocol: 'http', xff: '203.0.113.66' });
    expect(ours).toMatchObject({ ip: STRANGER, protocol: 'http', xff: null });
  });

  it('several X-Forwarded-Proto values: Express takes the first, ours refuses with a 400', async () => {
    const theirs = await see(createApp, (app) => app.set('trust proxy', 'loopback'), PROXY, {
      'x-forwarded-proto': 'https, http',
    });
    expect(theirs.protocol).toBe('https');
    const [, , options] = FORMS[3]!;
    await expect(
      see(
        createApp,
        (app) => app.use(waitressProxy({ ...options, logger: { warn() {} } })),
        PROXY,
        {
          'x-forwarded-proto': 'https, http',
        },
      ),
    ).rejects.toThrow(SyntaxError); // the 400 page is not JSON
  });
});
