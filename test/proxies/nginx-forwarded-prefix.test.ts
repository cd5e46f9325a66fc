/**
 * nginx serving the app under /app/ and stripping the prefix, telling the app
 * with `X-Forwarded-Prefix: /app` (examples/nginx/waitress-proxy-forwarded-prefix.conf).
 * The app's routes see `/whoami`; the links and redirects it builds carry
 * `/app`, from the trusted proxy only: a client's own X-Forwarded-Prefix,
 * through nginx or straight to the app, changes nothing.
 */
import { FRAMEWORKS } from '../../examples/demo/src/apps/index.js';
import type { AppReport } from '../../examples/demo/src/apps/index.js';
import { request } from './support/client.js';
import { parseReport, proxyHeadersOf, useDeployment } from './support/deployment.js';
import type { Deployment } from './support/deployment.js';
import { describeWithProxies } from './support/proxies.js';
import { FORGED_HEADERS, forgedValuesIn, nextClientAddress } from './support/sources.js';

const deployment: Deployment = {
  proxy: 'nginx',
  site: 'nginx/waitress-proxy-forwarded-prefix.conf',
  options: {
    trustedProxy: '127.0.0.1',
    trustedProxyHeaders: [
      'x-forwarded-for',
      'x-forwarded-host',
      'x-forwarded-proto',
      'x-forwarded-port',
      'x-forwarded-prefix',
    ],
  },
  proxyHeaders: (client, port) => ({
    'x-forwarded-for': client,
    'x-forwarded-host': `localhost:${port}`,
    'x-forwarded-proto': 'https',
    'x-forwarded-port': String(port),
  }),
};

/** Prefixes a client forges to turn every link the app writes into an open redirect. */
const HOSTILE_PREFIXES = ['//evil.example', '/evil', 'https://evil.example', '/a/../b'];

describeWithProxies(['nginx'], 'nginx strips /app/ and sends X-Forwarded-Prefix', () => {
  describe.each(FRAMEWORKS)('%s', (framework) => {
    const running = useDeployment(deployment, framework);
    const get = (path: string, from: string, headers?: Record<string, string>) =>
      request({ port: running.proxy().port, path, from, ca: running.ca(), headers });

    it('the app routes /whoami and its prefix is the one nginx stripped', async () => {
      const client = nextClientAddress();
      const port = running.proxy().port;
      const report = parseReport(await get('/app/whoami', client));
      expect(report).toMatchObject({
        framework,
        clientAddress: client,
        scheme: 'https',
        host: `localhost:${port}`,
        port,
        prefix: '/app',
        path: '/whoami',
      });
      expect(proxyHeadersOf(report)).toEqual(deployment.proxyHeaders(client, port));
      // Trusted and used: kept for the app, as the other trusted headers.
      expect(report.headers['x-forwarded-prefix']).toBe('/app');
    });

    it('a redirect the app builds goes back under /app/', async () => {
      const client = nextClientAddress();
      const port = running.proxy().port;
      const reply = await get('/app/go', client);
      expect(reply.status).toBe(302);
      expect(reply.headers.location).toBe(`https://localhost:${port}/app/whoami`);
    });

    it.each(HOSTILE_PREFIXES)(
      'a client X-Forwarded-Prefix %j through nginx is replaced by nginx’s own',
      async (prefix) => {
        const client = nextClientAddress();
        const port = running.proxy().port;
        const reply = await get('/app/go', client, { 'x-forwarded-prefix': prefix });
        expect(reply.status).toBe(302);
        expect(reply.headers.location).toBe(`https://localhost:${port}/app/whoami`);
      },
    );

    it.each(HOSTILE_PREFIXES)(
      'an X-Forwarded-Prefix %j sent straight to the app from an untrusted address is ignored and removed',
      async (prefix) => {
        const client = nextClientAddress();
        const reply = await request({
          port: running.app().port,
          path: '/whoami',
          from: client,
          headers: { ...FORGED_HEADERS, 'x-forwarded-prefix': prefix },
        });
        const report: AppReport = parseReport(reply);
        expect(report).toMatchObject({ clientAddress: client, scheme: 'http', prefix: '' });
        expect(proxyHeadersOf(report)).toEqual({});
        expect(report.headers['x-forwarded-prefix']).toBeUndefined();
        expect(forgedValuesIn(JSON.stringify(report))).toEqual([]);
      },
    );
  });
});
