/**
 * Behind a CDN: real nginx plays the CDN's edge (examples/cloudflare/
 * nginx-cdn.conf), writing the address of whoever connected into
 * CF-Connecting-IP, and the app trusts that header only from the addresses
 * of a range source (`@waitress-proxy/ranges`' fromUrl, a list served
 * locally that holds the address nginx connects from, 127.0.0.1), as
 * `cloudflare()` does with Cloudflare's published list. Express, Fastify
 * and Koa.
 */
import type { WaitressProxyOptions } from '@waitress-proxy/core';
import { makeCertificate } from '../../examples/demo/src/certificate.js';
import { fromUrl } from '../../packages/ranges/src/index.js';
import { START, recordingLogger, startListServer } from '../../packages/ranges/src/test-support.js';
import type { AppView, ListServer, RunningApp } from '../../packages/ranges/src/test-support.js';
import { request } from './support/client.js';
import { stopAll } from './support/processes.js';
import { describeWithProxies, startProxy, Workspace } from './support/proxies.js';
import type { StartedProxy } from './support/proxies.js';
import { FORGED, nextClientAddress } from './support/sources.js';

/** Every client-address header, forged. */
const FORGED_CLIENT_HEADERS = {
  'CF-Connecting-IP': FORGED.address,
  'True-Client-IP': FORGED.address,
  'X-Real-IP': FORGED.address,
  'X-Forwarded-For': FORGED.address,
};

describeWithProxies(
  ['nginx'],
  'nginx as the CDN, CF-Connecting-IP trusted from a range source',
  () => {
    describe.each(Object.keys(START))('%s', (framework) => {
      const controller = new AbortController();
      let workspace: Workspace | undefined;
      let lists: ListServer | undefined;
      let app: RunningApp | undefined;
      let proxy: StartedProxy | undefined;
      let ca = '';

      beforeAll(async () => {
        workspace = new Workspace();
        const certificate = await makeCertificate();
        ca = certificate.cert;
        const tls = workspace.writeTls(certificate);
        lists = await startListServer();
        // The CDN's published egress list: the one address nginx connects from.
        lists.set('/ips-v4', '127.0.0.1/32\n');
        const options: WaitressProxyOptions = {
          trustedProxy: fromUrl(lists.url('/ips-v4'), {
            format: 'lines',
            signal: controller.signal,
            logger: recordingLogger(),
          }),
          trustedProxyHeaders: 'cf-connecting-ip',
          logger: { warn: () => undefined },
        };
        app = await START[framework]!(options);
        proxy = await startProxy(workspace, tls, {
          kind: 'nginx',
          site: 'cloudflare/nginx-cdn.conf',
          upstreamPort: Number(new URL(app.url).port),
        });
      }, 30_000);

      afterAll(async () => {
        controller.abort();
        await stopAll();
        await app?.close();
        await lists?.close();
        workspace?.remove();
      }, 30_000);

      const throughCdn = async (from: string, headers?: Record<string, string | string[]>) => {
        const reply = await request({ port: proxy!.port, path: '/', from, ca, headers });
        expect(reply.status).toBe(200);
        return JSON.parse(reply.body) as AppView;
      };

      it('the app sees the client nginx saw, from CF-Connecting-IP', async () => {
        const client = nextClientAddress();
        expect(await throughCdn(client)).toEqual({
          ip: client,
          headers: { 'cf-connecting-ip': client },
          rawHeaders: [`CF-Connecting-IP: ${client}`],
        });
      });

      it('a CF-Connecting-IP the client forges through nginx is overwritten, and the other client-address headers are removed', async () => {
        const client = nextClientAddress();
        expect(await throughCdn(client, FORGED_CLIENT_HEADERS)).toEqual({
          ip: client,
          headers: { 'cf-connecting-ip': client },
          rawHeaders: [`CF-Connecting-IP: ${client}`],
        });
      });

      it('two forged CF-Connecting-IP lines through nginx are both replaced', async () => {
        const client = nextClientAddress();
        expect(
          await throughCdn(client, { 'CF-Connecting-IP': [FORGED.address, '198.51.100.1'] }),
        ).toEqual({
          ip: client,
          headers: { 'cf-connecting-ip': client },
          rawHeaders: [`CF-Connecting-IP: ${client}`],
        });
      });

      it('a CF-Connecting-IP forged straight to the app from an untrusted loopback address is ignored and removed from headers and rawHeaders', async () => {
        const client = nextClientAddress();
        const reply = await request({
          port: Number(new URL(app!.url).port),
          path: '/',
          from: client,
          headers: FORGED_CLIENT_HEADERS,
        });
        expect({ status: reply.status, view: JSON.parse(reply.body) as unknown }).toEqual({
          status: 200,
          view: { ip: client, headers: {}, rawHeaders: [] },
        });
      });
    });
  },
);
