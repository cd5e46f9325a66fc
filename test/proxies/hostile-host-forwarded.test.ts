/**
 * Hostile `Host` values through the real nginx, rendered from
 * examples/nginx/waitress-proxy-forwarded.conf (issue 14 item 1). nginx
 * passes `"`, `,`, `;` and `=` through in `$host`, so a config that writes
 * `$host` into a Forwarded element lets the client close the quote and add
 * an element of its own: `Host: x",for=6.6.6.6;host="evil.com` once made the
 * app see 6.6.6.6 and evil.com. Whatever the Host, the app must see the real
 * client and never a host the client smuggled in as structure: either a
 * normal answer or a clean refusal (nginx's 400, or the adapter's 400 naming
 * Forwarded), never a 500.
 */
import { FRAMEWORKS } from '../../examples/demo/src/apps/index.js';
import type { AppReport } from '../../examples/demo/src/apps/index.js';
import { request } from './support/client.js';
import { useDeployment } from './support/deployment.js';
import { describeWithProxies } from './support/proxies.js';
import { nextClientAddress } from './support/sources.js';

const HOSTILE_HOSTS = [
  'x",for=6.6.6.6;host="evil.com',
  'x",for="6.6.6.6',
  'x", for=6.6.6.6',
  'x;for=6.6.6.6',
  'x;host=evil.com',
  'x,for=6.6.6.6;host=evil.com;proto=https',
  'x=y',
  'x y',
  'localhost:1:2',
  'evil.com";proto="http',
  '"',
] as const;

describeWithProxies(['nginx'], 'nginx Forwarded example against hostile Host values', () => {
  describe.each(FRAMEWORKS)('%s', (framework) => {
    const running = useDeployment(
      {
        proxy: 'nginx',
        site: 'nginx/waitress-proxy-forwarded.conf',
        options: { trustedProxy: '127.0.0.1', trustedProxyHeaders: 'forwarded' },
        proxyHeaders: () => ({}),
      },
      framework,
    );

    it.each(HOSTILE_HOSTS)(
      'Host %j cannot choose the client address or smuggle a host',
      async (host) => {
        const client = nextClientAddress();
        const reply = await request({
          port: running.proxy().port,
          path: '/whoami',
          from: client,
          ca: running.ca(),
          headers: { host },
        });
        expect(reply.status).not.toBeGreaterThanOrEqual(500);
        if (reply.status !== 200) {
          expect(reply.status).toBe(400);
          return;
        }
        const report = JSON.parse(reply.body) as AppReport;
        expect(report.clientAddress).toBe(client);
        expect(report.scheme).toBe('https');
        // The Host the client sent may come through as text (it is the
        // client's own Host, as on a direct connection; allowedHosts refuses
        // it), but never parsed into a host of its choosing.
        expect(report.hostname).not.toBe('evil.com');
        expect(report.host).not.toMatch(/^evil\.com(:\d+)?$/);
      },
    );
  });
});
