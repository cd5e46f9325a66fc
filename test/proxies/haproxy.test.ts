/**
 * HAProxy with `option forwardfor` (a new X-Forwarded-For line after the
 * client's) and X-Forwarded-Proto/Host/Port replaced
 * (examples/haproxy/haproxy.cfg).
 */
import { describeDeployment } from './support/deployment.js';

describeDeployment('HAProxy, X-Forwarded-*', {
  proxy: 'haproxy',
  site: 'haproxy/haproxy.cfg',
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
