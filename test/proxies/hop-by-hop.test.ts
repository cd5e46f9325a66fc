/**
 * A client names headers in `Connection` (RFC 9110 §7.6.1: the receiver
 * removes the headers listed there before forwarding). A proxy that does that
 * removal after it set its own proxy headers deletes them on the client's
 * word: Apache dropped its own X-Forwarded-Proto, and the app saw http. For
 * every example config of every HTTP proxy, each proxy header (and Host) is
 * named in `Connection`, one at a time and all together, and the app must see
 * exactly what it sees for the same client without the trick.
 *
 * Not here: the PROXY protocol examples (HAProxy and nginx in TCP mode) read
 * no HTTP header at all, so a client's `Connection` reaches the app as sent,
 * and Node removes nothing it names.
 */
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { FRAMEWORKS } from '../../examples/demo/src/apps/index.js';
import type { AppReport } from '../../examples/demo/src/apps/index.js';
import { request, SERVER_NAME } from './support/client.js';
import type { Reply } from './support/client.js';
import { useDeployment } from './support/deployment.js';
import type { Deployment } from './support/deployment.js';
import { describeWithProxies } from './support/proxies.js';
import { nextClientAddress } from './support/sources.js';

/** Every header one of the example configs sets, and Host. */
const NAMED = [
  'X-Forwarded-For',
  'X-Forwarded-Proto',
  'X-Forwarded-Host',
  'X-Forwarded-Port',
  'X-Forwarded-Prefix',
  'Forwarded',
  'X-Real-IP',
  'CF-Connecting-IP',
  'Host',
] as const;

const X_FORWARDED = [
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
] as const;

interface Case {
  readonly title: string;
  readonly deployment: Omit<Deployment, 'proxyHeaders'>;
  /** The path the client asks for. */
  readonly path: string;
  /** What the app must see without the trick, so that "the same" means "right". */
  readonly honest: (client: string, port: number) => Partial<AppReport>;
}

const httpsView = (prefix: string) => (client: string, port: number) => ({
  clientAddress: client,
  scheme: 'https',
  host: `localhost:${port}`,
  port,
  prefix,
  url: `https://localhost:${port}${prefix}/whoami`,
});

const CASES: readonly Case[] = [
  {
    title: 'apache/waitress-proxy.conf',
    deployment: {
      proxy: 'apache',
      site: 'apache/waitress-proxy.conf',
      options: {
        trustedProxy: '127.0.0.1',
        trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto'],
      },
    },
    path: '/whoami',
    honest: httpsView(''),
  },
  {
    title: 'nginx/waitress-proxy.conf',
    deployment: {
      proxy: 'nginx',
      site: 'nginx/waitress-proxy.conf',
      options: { trustedProxy: '127.0.0.1', trustedProxyHeaders: [...X_FORWARDED] },
    },
    path: '/whoami',
    honest: httpsView(''),
  },
  {
    title: 'nginx/waitress-proxy-prefix.conf',
    deployment: {
      proxy: 'nginx',
      site: 'nginx/waitress-proxy-prefix.conf',
      options: {
        trustedProxy: '127.0.0.1',
        trustedProxyHeaders: [...X_FORWARDED],
        urlPrefix: '/app',
      },
    },
    path: '/app/whoami',
    honest: httpsView('/app'),
  },
  {
    title: 'nginx/waitress-proxy-forwarded-prefix.conf',
    deployment: {
      proxy: 'nginx',
      site: 'nginx/waitress-proxy-forwarded-prefix.conf',
      options: {
        trustedProxy: '127.0.0.1',
        trustedProxyHeaders: [...X_FORWARDED, 'x-forwarded-prefix'],
      },
    },
    path: '/app/whoami',
    // The app's own url leaves out a prefix the proxy stripped.
    honest: (client, port) => ({
      clientAddress: client,
      scheme: 'https',
      host: `localhost:${port}`,
      port,
      prefix: '/app',
      path: '/whoami',
    }),
  },
  {
    title: 'nginx/waitress-proxy-forwarded.conf',
    deployment: {
      proxy: 'nginx',
      site: 'nginx/waitress-proxy-forwarded.conf',
      options: { trustedProxy: '127.0.0.1', trustedProxyHeaders: 'forwarded' },
    },
    path: '/whoami',
    honest: httpsView(''),
  },
  {
    title: 'cloudflare/nginx-cdn.conf',
    deployment: {
      proxy: 'nginx',
      site: 'cloudflare/nginx-cdn.conf',
      options: { trustedProxy: '127.0.0.1', trustedProxyHeaders: 'cf-connecting-ip' },
    },
    path: '/whoami',
    // CF-Connecting-IP carries the address only: the scheme and port are
    // the hop's, and nginx's $host has no port.
    honest: (client) => ({ clientAddress: client, scheme: 'http', host: 'localhost', prefix: '' }),
  },
  {
    title: 'haproxy/haproxy.cfg',
    deployment: {
      proxy: 'haproxy',
      site: 'haproxy/haproxy.cfg',
      options: { trustedProxy: '127.0.0.1', trustedProxyHeaders: [...X_FORWARDED] },
    },
    path: '/whoami',
    honest: httpsView(''),
  },
  {
    title: 'caddy/Caddyfile',
    deployment: {
      proxy: 'caddy',
      site: 'caddy/Caddyfile',
      options: {
        trustedProxy: '127.0.0.1',
        trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto'],
      },
    },
    path: '/whoami',
    honest: httpsView(''),
  },
];

/**
 * Sends `text` over one TLS connection and waits for the proxy to close it,
 * up to a limit far below every example's idle timeout.
 */
function rawExchange(
  port: number,
  ca: string,
  from: string,
  text: string,
): Promise<{ status: number; closedByProxy: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      socket: netConnect({ host: '127.0.0.1', port, localAddress: from }),
      ca,
      servername: SERVER_NAME,
    });
    let received = '';
    const limit = setTimeout(() => {
      socket.destroy();
      resolve({ status: statusOf(received), closedByProxy: false });
    }, 3_000);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    socket.on('error', (error: Error) => {
      clearTimeout(limit);
      reject(error);
    });
    socket.on('end', () => {
      clearTimeout(limit);
      socket.destroy();
      resolve({ status: statusOf(received), closedByProxy: true });
    });
    socket.write(text);
  });
}

function statusOf(response: string): number {
  return Number(/^HTTP\/1\.1 (\d{3}) /.exec(response)?.[1] ?? 0);
}

/** The part of the app's view a proxy header decides, and the proxy headers themselves. */
function decided(reply: Reply): unknown {
  if (reply.status !== 200) return { status: reply.status, body: reply.body };
  const report = JSON.parse(reply.body) as AppReport;
  const headers: Record<string, string | string[]> = {};
  for (const name of NAMED) {
    const key = name.toLowerCase();
    const value = report.headers[key];
    if (key !== 'host' && value !== undefined) headers[key] = value;
  }
  return {
    status: 200,
    clientAddress: report.clientAddress,
    scheme: report.scheme,
    host: report.host,
    hostname: report.hostname,
    port: report.port,
    prefix: report.prefix,
    path: report.path,
    url: report.url,
    headers,
  };
}

for (const { title, deployment, path, honest } of CASES) {
  describeWithProxies(
    [deployment.proxy],
    `${title}: a client naming proxy headers in Connection`,
    () => {
      describe.each(FRAMEWORKS)('%s', (framework) => {
        const running = useDeployment({ ...deployment, proxyHeaders: () => ({}) }, framework);
        const get = (from: string, headers?: Record<string, string>) =>
          request({ port: running.proxy().port, path, from, ca: running.ca(), headers });

        it.each<string>([...NAMED, NAMED.join(', ')])(
          'Connection: %s changes nothing the app sees',
          async (connection) => {
            const client = nextClientAddress();
            const plain = await get(client);
            expect(decided(plain)).toMatchObject({
              status: 200,
              ...honest(client, running.proxy().port),
            });
            const tricked = await get(client, { connection });
            expect(decided(tricked)).toEqual(decided(plain));
          },
        );

        // The fix must not cost the client its own use of Connection.
        it('a client that also says close still has its connection closed after the answer', async () => {
          const exchange = await rawExchange(
            running.proxy().port,
            running.ca(),
            nextClientAddress(),
            `GET ${path} HTTP/1.1\r\nHost: localhost:${running.proxy().port}\r\nConnection: ${NAMED.join(', ')}, close\r\n\r\n`,
          );
          expect(exchange).toMatchObject({ status: 200, closedByProxy: true });
        });
      });
    },
  );
}
