/**
 * Caddy's reverse_proxy with its defaults: X-Forwarded-For, -Proto and -Host
 * set, replacing the client's (examples/caddy/Caddyfile).
 */
import { describeDeployment } from './support/deployment.js';

describeDeployment('Caddy, X-Forwarded-*', {
  proxy: 'caddy',
  site: 'caddy/Caddyfile',
  options: {
    trustedProxy: '127.0.0.1',
    trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto'],
  },
  proxyHeaders: (client, port) => ({
    'x-forwarded-for': client,
    'x-forwarded-host': `localhost:${port}`,
    'x-forwarded-proto': 'https',
  }),
});
