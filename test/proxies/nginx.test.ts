/**
 * nginx with exactly the directives of waitress's reverse-proxy
 * documentation (examples/nginx/waitress-proxy.conf).
 */
import { describeDeployment } from './support/deployment.js';

describeDeployment('nginx, X-Forwarded-*', {
  proxy: 'nginx',
  site: 'nginx/waitress-proxy.conf',
  options: {
    trustedProxy: '127.0.0.1',
    trustedProxyHeaders: [
      'x-forwarded-for',
      'x-forwarded-host',
      'x-forwarded-proto',
      'x-forwarded-port',
    ],
  },
  proxyHeaders: (client, port) => ({
    'x-forwarded-for': client,
    'x-forwarded-host': `localhost:${port}`,
    'x-forwarded-proto': 'https',
    'x-forwarded-port': String(port),
  }),
});
