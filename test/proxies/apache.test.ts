/**
 * Apache httpd as waitress's reverse-proxy documentation configures it:
 * ProxyPreserveHost On and X-Forwarded-Proto set; mod_proxy_http appends
 * X-Forwarded-For itself, after what the client sent, and sets
 * X-Forwarded-Host, the client's removed (examples/apache/waitress-proxy.conf).
 */
import { describeDeployment } from './support/deployment.js';

describeDeployment('Apache httpd, X-Forwarded-*', {
  proxy: 'apache',
  site: 'apache/waitress-proxy.conf',
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
