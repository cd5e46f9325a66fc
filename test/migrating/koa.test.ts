/**
 * docs/migrating/koa.md, held on real requests on Koa 2 and 3: `app.proxy`
 * with `maxIpsCount` and `proxyIpHeader`, and the options that give the same
 * `ctx.ip`, `ctx.protocol` and `ctx.host` for honest traffic; where ours
 * differs on forged traffic, it does.
 */
import { request } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import Koa2 from 'koa2';
import { waitressProxy } from '@waitress-proxy/koa';
import type { WaitressProxyOptions } from '@waitress-proxy/koa';

const PROXY = '127.0.0.2';
const STRANGER = '127.0.0.3';
const HEADERS = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'];

interface KoaSettings {
  proxy?: boolean;
  maxIpsCount?: number;
  proxyIpHeader?: string;
}
interface Seen {
  ip: string;
  protocol: string;
  host: string;
  xff: string | null;
}

async function see(
  KoaClass: typeof Koa,
  settings: KoaSettings,
  options: WaitressProxyOptions | undefined,
  peer: string,
  headers: Record<string, string>,
): Promise<Seen> {
  const app = new KoaClass();
  Object.assign(app, settings);
  if (options !== undefined) app.use(waitressProxy({ ...options, logger: { warn() {} } }));
  app.use((ctx) => {
    ctx.body = {
      ip: ctx.ip,
      protocol: ctx.protocol,
      host: ctx.host,
      xff: ctx.get('x-forwarded-for') || null,
    };
  });
  const server = await new Promise<Server>((done) => {
    const listening = app.listen(0, '127.0.0.1', () => {
      done(listening);
    });
  });
  try {
    const { port } = server.address() as AddressInfo;
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
    server.close();
  }
}

const FORMS: readonly (readonly [string, KoaSettings, WaitressProxyOptions])[] = [
  [
    'app.proxy',
    { proxy: true },
    { trustedProxy: '*', trustedProxyCount: Infinity, trustedProxyHeaders: HEADERS },
  ],
  [
    'app.proxy with maxIpsCount 1',
    { proxy: true, maxIpsCount: 1 },
    { trustedProxy: '*', trustedProxyCount: 1, trustedProxyHeaders: HEADERS },
  ],
  [
    'app.proxy with maxIpsCount 2',
    { proxy: true, maxIpsCount: 2 },
    { trustedProxy: '*', trustedProxyCount: 2, trustedProxyHeaders: HEADERS },
  ],
  [
    "app.proxy with proxyIpHeader 'X-Real-IP'",
    { proxy: true, proxyIpHeader: 'X-Real-IP' },
    {
      trustedProxy: '*',
      trustedProxyHeaders: ['x-real-ip', 'x-forwarded-proto', 'x-forwarded-host'],
    },
  ],
];

const HONEST = {
  'x-forwarded-for': '198.51.100.7, 10.1.2.3',
  'x-real-ip': '198.51.100.7',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'shop.example',
};

describe.each([
  ['Koa 3', Koa],
  ['Koa 2', Koa2 as unknown as typeof Koa],
] as const)('%s: app.proxy → waitress-proxy', (_name, KoaClass) => {
  it.each(FORMS)(
    '%s: the same ip, protocol and host for honest traffic',
    async (_form, settings, options) => {
      const theirs = await see(KoaClass, settings, undefined, PROXY, HONEST);
      const ours = await see(KoaClass, {}, options, PROXY, HONEST);
      expect({ ip: ours.ip, protocol: ours.protocol, host: ours.host }).toEqual({
        ip: theirs.ip,
        protocol: theirs.protocol,
        host: theirs.host,
      });
    },
  );

  it('app.proxy believes any peer; trustedProxy names the proxy, and forged headers are removed', async () => {
    const forged = { 'x-forwarded-for': '203.0.113.66', 'x-forwarded-proto': 'https' };
    const theirs = await see(KoaClass, { proxy: true }, undefined, STRANGER, forged);
    const ours = await see(
      KoaClass,
      {},
      { trustedProxy: PROXY, trustedProxyHeaders: HEADERS },
      STRANGER,
      forged,
    );
    expect(theirs).toMatchObject({ ip: '203.0.113.66', protocol: 'https', xff: '203.0.113.66' });
    expect(ours).toMatchObject({ ip: STRANGER, protocol: 'http', xff: null });
  });
});
