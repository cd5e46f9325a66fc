/**
 * docs/migrating/fastify.md, held on real requests: for each form of
 * Fastify's `trustProxy`, the equivalent options give the same
 * `request.ip`, `request.ips`, `request.protocol` and `request.host` as
 * Fastify's own setting for honest traffic; where ours differs on forged
 * traffic, it does.
 */
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import type { FastifyServerOptions } from 'fastify';
import { waitressProxy } from '@waitress-proxy/fastify';
import type { WaitressProxyOptions } from '@waitress-proxy/fastify';

const HEADERS = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'];
const PROXY = '127.0.0.2';
const STRANGER = '127.0.0.3';

interface Seen {
  ip: string;
  ips: string[];
  protocol: string;
  host: string;
  xff: string | null;
}

async function see(
  trustProxy: FastifyServerOptions['trustProxy'] | undefined,
  options: WaitressProxyOptions | undefined,
  peer: string,
  headers: Record<string, string>,
): Promise<Seen> {
  const app = Fastify(trustProxy === undefined ? {} : { trustProxy });
  if (options !== undefined)
    await app.register(waitressProxy, { ...options, logger: { warn() {} } });
  app.get('/', (req) => ({
    ip: req.ip,
    ips: req.ips ?? [req.ip],
    protocol: req.protocol,
    host: req.host,
    xff: req.headers['x-forwarded-for'] ?? null,
  }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const { port } = app.server.address() as AddressInfo;
    const body = await new Promise<string>((done, fail) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          localAddress: peer,
          path: '/',
          agent: false,
          headers: { host: 'app.internal', ...headers },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            done(text);
          });
        },
      );
      req.on('error', fail);
      req.end();
    });
    return JSON.parse(body) as Seen;
  } finally {
    await app.close();
  }
}

const HOPS = {
  trustedProxyCount: Infinity,
  requireTrustedHops: true,
  trustedProxyHeaders: HEADERS,
};
const FORMS: readonly (readonly [
  string,
  FastifyServerOptions['trustProxy'],
  WaitressProxyOptions,
])[] = [
  ['true', true, { trustedProxy: '*', trustedProxyCount: Infinity, trustedProxyHeaders: HEADERS }],
  // Fastify 5.12 and later trust nothing for a number: it cannot check the peer.
  ['a number (Fastify 5.12+: nothing trusted)', 1 as unknown as boolean, {}],
  ['an address', PROXY, { trustedProxy: PROXY, ...HOPS }],
  ['a list with a CIDR', [PROXY, '10.0.0.0/8'], { trustedProxy: [PROXY, '10.0.0.0/8'], ...HOPS }],
  [
    'a function of the address',
    (address: string) => address === PROXY || address.startsWith('10.'),
    { trustedProxy: (address: string) => address === PROXY || address.startsWith('10.'), ...HOPS },
  ],
];

const HONEST = {
  'x-forwarded-for': '198.51.100.7, 10.1.2.3',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'shop.example',
};

describe('Fastify: trustProxy → waitress-proxy', () => {
  it.each(FORMS)(
    '%s: the same ip, ips, protocol and host for honest traffic',
    async (_form, trustProxy, options) => {
      const theirs = await see(trustProxy, undefined, PROXY, HONEST);
      const ours = await see(undefined, options, PROXY, HONEST);
      // `ips` differs in shape: Fastify's lists the peer and every trusted hop, ours the window.
      expect({ ip: ours.ip, protocol: ours.protocol, host: ours.host }).toEqual({
        ip: theirs.ip,
        protocol: theirs.protocol,
        host: theirs.host,
      });
    },
  );

  it("an address: a stranger's forged headers are ignored by both, but only ours removes them", async () => {
    const forged = { 'x-forwarded-for': '203.0.113.66', 'x-forwarded-proto': 'https' };
    const theirs = await see(PROXY, undefined, STRANGER, forged);
    const ours = await see(undefined, { trustedProxy: PROXY, ...HOPS }, STRANGER, forged);
    expect(theirs).toMatchObject({ ip: STRANGER, protocol: 'http', xff: '203.0.113.66' });
    expect(ours).toMatchObject({ ip: STRANGER, protocol: 'http', xff: null });
  });

  it('several X-Forwarded-Proto values: Fastify takes the last, ours refuses with a 400', async () => {
    const several = { 'x-forwarded-proto': 'http, https' };
    expect((await see(PROXY, undefined, PROXY, several)).protocol).toBe('https');
    await expect(
      see(undefined, { trustedProxy: PROXY, ...HOPS }, PROXY, several),
    ).resolves.toMatchObject({
      statusCode: 400,
    });
  });
});
