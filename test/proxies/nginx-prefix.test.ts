/**
 * nginx serving the app under /app/ without stripping it, the app with
 * `urlPrefix: '/app'`: routes are matched without the prefix, and the URLs
 * and redirects the app builds carry it
 * (examples/nginx/waitress-proxy-prefix.conf).
 */
import { describeDeployment } from './support/deployment.js';

describeDeployment('nginx, the app under /app/', {
  proxy: 'nginx',
  site: 'nginx/waitress-proxy-prefix.conf',
  options: {
    trustedProxy: '127.0.0.1',
    trustedProxyHeaders: [
      'x-forwarded-for',
      'x-forwarded-host',
      'x-forwarded-proto',
      'x-forwarded-port',
    ],
    urlPrefix: '/app',
  },
  proxyHeaders: (client, port) => ({
    'x-forwarded-for': client,
    'x-forwarded-host': `localhost:${port}`,
    'x-forwarded-proto': 'https',
    'x-forwarded-port': String(port),
  }),
});
