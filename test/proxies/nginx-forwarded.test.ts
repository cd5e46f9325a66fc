/**
 * nginx sending RFC 7239 `Forwarded`, appended to what the client sent
 * (examples/nginx/waitress-proxy-forwarded.conf), with
 * `trustedProxyHeaders: 'forwarded'`: every X-Forwarded-* is removed.
 */
import { describeDeployment } from './support/deployment.js';

describeDeployment('nginx, RFC 7239 Forwarded', {
  proxy: 'nginx',
  site: 'nginx/waitress-proxy-forwarded.conf',
  options: { trustedProxy: '127.0.0.1', trustedProxyHeaders: 'forwarded' },
  proxyHeaders: (client, port) => ({
    forwarded: `proto=https;host="localhost:${port}";for=${client}`,
  }),
});
