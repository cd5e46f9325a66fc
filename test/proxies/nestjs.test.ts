/**
 * NestJS 12 (examples/nestjs) behind real nginx with waitress's directives
 * (examples/nginx/waitress-proxy.conf), on the Express platform (the
 * module's MiddlewareConsumer, and `app.use` before `init()`) and on the
 * Fastify platform: a Nest handler's `@Req()` shows the client, `https` and
 * the client's host, and headers a client forges through nginx change
 * nothing. The Nest app runs in a process of its own (test/nestjs/serve.ts).
 */
import { makeCertificate } from '../../examples/demo/src/certificate.js';
import { startNest } from '../nestjs/serve.js';
import type { NestApp, RunningNest } from '../nestjs/serve.js';
import { request } from './support/client.js';
import { stopAll } from './support/processes.js';
import { describeWithProxies, startProxy, Workspace } from './support/proxies.js';
import type { StartedProxy } from './support/proxies.js';
import { FORGED_HEADERS, forgedValuesIn, nextClientAddress } from './support/sources.js';

const APPS: readonly NestApp[] = ['express', 'expressUseBeforeInit', 'fastify'];

describeWithProxies(['nginx'], 'nginx to NestJS', () => {
  let workspace: Workspace;
  let ca: string;
  let nest: RunningNest;
  const proxies = new Map<NestApp, StartedProxy>();

  beforeAll(async () => {
    workspace = new Workspace();
    const certificate = await makeCertificate();
    ca = certificate.cert;
    const tls = workspace.writeTls(certificate);
    nest = await startNest({
      trustedProxy: '127.0.0.1',
      trustedProxyHeaders: [
        'x-forwarded-for',
        'x-forwarded-host',
        'x-forwarded-proto',
        'x-forwarded-port',
      ],
    });
    for (const app of APPS) {
      proxies.set(
        app,
        await startProxy(workspace, tls, {
          kind: 'nginx',
          site: 'nginx/waitress-proxy.conf',
          upstreamPort: nest.ports[app],
        }),
      );
    }
  }, 60_000);

  afterAll(async () => {
    await stopAll();
    await nest.stop();
    workspace.remove();
  }, 30_000);

  describe.each(APPS)('%s', (app) => {
    const port = (): number => {
      const proxy = proxies.get(app);
      if (proxy === undefined) throw new Error(`no nginx for ${app}`);
      return proxy.port;
    };

    it('@Req() shows the client, https and the host the client used', async () => {
      const client = nextClientAddress();
      const reply = await request({ port: port(), path: '/', from: client, ca });
      expect({ status: reply.status, body: JSON.parse(reply.body) as unknown }).toEqual({
        status: 200,
        body: {
          ip: client,
          protocol: 'https',
          host: `localhost:${port()}`,
          forwardedFor: client,
        },
      });
    });

    it('proxy headers a client forges through nginx change nothing', async () => {
      const client = nextClientAddress();
      const reply = await request({
        port: port(),
        path: '/',
        from: client,
        ca,
        headers: FORGED_HEADERS,
      });
      expect(JSON.parse(reply.body)).toEqual({
        ip: client,
        protocol: 'https',
        host: `localhost:${port()}`,
        forwardedFor: client,
      });
      expect(forgedValuesIn(reply.body)).toEqual([]);
    });
  });
});
