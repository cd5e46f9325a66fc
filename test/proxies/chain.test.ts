/**
 * Two proxies: Caddy terminates TLS (examples/caddy/Caddyfile) and forwards
 * to nginx (examples/nginx/waitress-proxy-behind-front.conf), which forwards
 * to the app with `trustedProxyCount: 2`. The last two X-Forwarded-For
 * entries are Caddy's (the client) and nginx's (Caddy); the oldest is the
 * client.
 *
 * A client that reaches nginx directly, bypassing Caddy, is one hop short:
 * with the count alone the entry it forged falls inside the window and it
 * names itself; `requireTrustedHops` stops at its own, untrusted address.
 */
import { APPS, FRAMEWORKS } from '../../examples/demo/src/apps/index.js';
import type { RunningApp } from '../../examples/demo/src/apps/index.js';
import { makeCertificate } from '../../examples/demo/src/certificate.js';
import type { WaitressProxyOptions } from '@waitress-proxy/core';
import { request } from './support/client.js';
import { parseReport, proxyHeadersOf } from './support/deployment.js';
import { stopAll } from './support/processes.js';
import { describeWithProxies, startProxy, Workspace } from './support/proxies.js';
import type { StartedProxy } from './support/proxies.js';
import { FORGED, FORGED_HEADERS, forgedValuesIn, nextClientAddress } from './support/sources.js';

const CHAIN_OPTIONS: WaitressProxyOptions = {
  trustedProxy: '127.0.0.1',
  trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto'],
  trustedProxyCount: 2,
};

const VARIANTS = [
  { title: 'trustedProxyCount 2', options: CHAIN_OPTIONS, bypassIsBlocked: false },
  {
    title: 'trustedProxyCount 2 with requireTrustedHops',
    options: { ...CHAIN_OPTIONS, requireTrustedHops: true },
    bypassIsBlocked: true,
  },
] as const;

describeWithProxies(['caddy', 'nginx'], 'Caddy in front of nginx', () => {
  describe.each(VARIANTS)('$title', ({ options, bypassIsBlocked }) => {
    describe.each(FRAMEWORKS)('%s', (framework) => {
      let workspace: Workspace | undefined;
      let ca = '';
      let app: RunningApp | undefined;
      let nginx: StartedProxy | undefined;
      let caddy: StartedProxy | undefined;

      beforeAll(async () => {
        const startApp = APPS[framework];
        if (startApp === undefined) throw new Error(`no ${framework} app`);
        workspace = new Workspace();
        const certificate = await makeCertificate();
        ca = certificate.cert;
        const tls = workspace.writeTls(certificate);
        app = await startApp(options);
        nginx = await startProxy(workspace, tls, {
          kind: 'nginx',
          site: 'nginx/waitress-proxy-behind-front.conf',
          upstreamPort: app.port,
        });
        caddy = await startProxy(workspace, tls, {
          kind: 'caddy',
          site: 'caddy/Caddyfile',
          upstreamPort: nginx.port,
        });
      }, 30_000);

      afterAll(async () => {
        await stopAll();
        await app?.close();
        workspace?.remove();
      }, 30_000);

      it('the app sees the client behind both proxies, and the scheme, host and port it used', async () => {
        const client = nextClientAddress();
        const port = caddy!.port;
        const report = parseReport(
          await request({ port, path: '/whoami', from: client, ca, headers: FORGED_HEADERS }),
        );
        expect(report).toMatchObject({
          clientAddress: client,
          scheme: 'https',
          host: `localhost:${port}`,
          port,
          url: `https://localhost:${port}/whoami`,
        });
        // Cut to the two entries of the window: the client's and Caddy's.
        expect(proxyHeadersOf(report)).toEqual({
          'x-forwarded-for': `${client}, 127.0.0.1`,
          'x-forwarded-host': `localhost:${port}, localhost:${port}`,
          'x-forwarded-proto': 'https',
        });
        expect(forgedValuesIn(JSON.stringify(report))).toEqual([]);
      });

      it('a redirect the app builds from the request sends the client back to the front proxy', async () => {
        const client = nextClientAddress();
        const port = caddy!.port;
        const reply = await request({ port, path: '/go', from: client, ca });
        expect(reply.status).toBe(302);
        expect(reply.headers.location).toBe(`https://localhost:${port}/whoami`);
      });

      const bypass = bypassIsBlocked
        ? 'a client bypassing the front proxy is seen as itself, whatever it forged'
        : 'a client bypassing the front proxy names itself with a forged hop (what requireTrustedHops is for)';
      it(bypass, async () => {
        const client = nextClientAddress();
        const port = nginx!.port;
        const report = parseReport(
          await request({
            port,
            path: '/whoami',
            from: client,
            headers: {
              'x-forwarded-for': FORGED.address,
              'x-forwarded-host': FORGED.host,
            },
          }),
        );
        if (bypassIsBlocked) {
          expect(report).toMatchObject({ clientAddress: client, host: `localhost:${port}` });
          expect(forgedValuesIn(JSON.stringify(report))).toEqual([]);
        } else {
          expect(report).toMatchObject({ clientAddress: FORGED.address, host: FORGED.host });
        }
      });
    });
  });
});
