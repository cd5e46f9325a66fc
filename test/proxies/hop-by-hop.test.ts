/**
 * A client names headers in `Connection` (RFC 9110 §7.6.1: the receiver
 * removes the headers listed there before forwarding). A proxy that does that
 * removal after it set its own proxy headers deletes them on the client's
 * word: Apache dropped its own X-Forwarded-Proto, and the app saw http. For
 * every example config of every HTTP proxy, each proxy header (and Host) is
 * named in `Connection`, one at a time and all together, and the app must see
 * exactly what it sees for the same client without the trick.
 *
 * Also the deployments with their own shape: Caddy in front of nginx
 * (behind-front), Caddy to an h2c app, nginx to a Unix socket.
 *
 * Not here: the PROXY protocol examples (HAProxy and nginx in TCP mode) read
 * no HTTP header at all, so a client's `Connection` reaches the app as sent,
 * and Node removes nothing it names.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import type { OutgoingHttpHeaders } from 'node:http';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { APPS, FRAMEWORKS } from '../../examples/demo/src/apps/index.js';
import type { AppReport } from '../../examples/demo/src/apps/index.js';
import { makeCertificate } from '../../examples/demo/src/certificate.js';
import type { WaitressProxyOptions } from '@waitress-proxy/core';
import { request, SERVER_NAME } from './support/client.js';
import type { Reply } from './support/client.js';
import { useDeployment } from './support/deployment.js';
import type { Deployment } from './support/deployment.js';
import { stopAll } from './support/processes.js';
import { describeWithProxies, startProxy, Workspace } from './support/proxies.js';
import type { ProxyKind, TlsFiles } from './support/proxies.js';
import { RecordingLogger, startShapeApp } from './support/shape-apps.js';
import type { Seen, ShapeFramework } from './support/shape-apps.js';
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
        const get = (from: string, headers?: OutgoingHttpHeaders) =>
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

        it.each<[string, string[]]>([
          ['names, then close', [NAMED.join(', '), 'close']],
          ['close, then names', ['close', NAMED.join(', ')]],
        ])('Connection over two lines (%s) changes nothing the app sees', async (_, lines) => {
          const client = nextClientAddress();
          const plain = await get(client);
          const tricked = await get(client, { connection: lines });
          expect(decided(tricked)).toEqual(decided(plain));
        });

        // The older, non-standard spelling some proxies still read.
        it('Proxy-Connection naming every proxy header changes nothing the app sees', async () => {
          const client = nextClientAddress();
          const plain = await get(client);
          const tricked = await get(client, { 'proxy-connection': NAMED.join(', ') });
          expect(decided(tricked)).toEqual(decided(plain));
        });

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

/** What an app of support/shape-apps saw that a proxy header decides. */
function seenDecided(reply: Reply): unknown {
  if (reply.status !== 200) return { status: reply.status, body: reply.body };
  const seen = JSON.parse(reply.body) as Seen;
  const headers: Record<string, unknown> = {};
  for (const name of NAMED) {
    const key = name.toLowerCase();
    if (key !== 'host' && seen.headers[key] !== undefined) headers[key] = seen.headers[key];
  }
  return {
    status: 200,
    clientAddress: seen.clientAddress,
    scheme: seen.scheme,
    host: seen.host,
    headers,
  };
}

interface Running {
  /** The port the client connects to, TLS on 127.0.0.1. */
  readonly port: number;
  close(): Promise<void>;
}

interface Setup {
  readonly title: string;
  readonly kinds: readonly ProxyKind[];
  readonly frameworks: readonly ShapeFramework[];
  start(framework: ShapeFramework, workspace: Workspace, tls: TlsFiles): Promise<Running>;
  readonly decide: (reply: Reply) => unknown;
  readonly honest: (client: string, port: number) => Record<string, unknown>;
}

const CHAIN_OPTIONS: WaitressProxyOptions = {
  trustedProxy: '127.0.0.1',
  trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto'],
  trustedProxyCount: 2,
};

const SHAPE_HEADERS = ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto'];

const SETUPS: readonly Setup[] = [
  {
    title: 'caddy/Caddyfile in front of nginx/waitress-proxy-behind-front.conf',
    kinds: ['caddy', 'nginx'],
    frameworks: FRAMEWORKS,
    async start(framework, workspace, tls) {
      const startApp = APPS[framework];
      if (startApp === undefined) throw new Error(`no ${framework} app`);
      const app = await startApp(CHAIN_OPTIONS);
      const nginx = await startProxy(workspace, tls, {
        kind: 'nginx',
        site: 'nginx/waitress-proxy-behind-front.conf',
        upstreamPort: app.port,
      });
      const caddy = await startProxy(workspace, tls, {
        kind: 'caddy',
        site: 'caddy/Caddyfile',
        upstreamPort: nginx.port,
      });
      return { port: caddy.port, close: () => app.close() };
    },
    decide: decided,
    honest: httpsView(''),
  },
  {
    title: 'caddy/Caddyfile-h2c',
    kinds: ['caddy'],
    // Express cannot serve HTTP/2.
    frameworks: ['fastify', 'koa'],
    async start(framework, workspace, tls) {
      const app = await startShapeApp(
        framework,
        { h2c: true },
        {
          trustedProxy: '127.0.0.1',
          trustedProxyHeaders: SHAPE_HEADERS,
          logger: new RecordingLogger(),
        },
      );
      const caddy = await startProxy(workspace, tls, {
        kind: 'caddy',
        site: 'caddy/Caddyfile-h2c',
        upstreamPort: app.port,
      });
      return { port: caddy.port, close: () => app.close() };
    },
    decide: seenDecided,
    honest: (client, port) => ({
      clientAddress: client,
      scheme: 'https',
      host: `localhost:${port}`,
    }),
  },
  {
    title: 'nginx/waitress-proxy-unix.conf',
    kinds: ['nginx'],
    frameworks: ['express', 'fastify', 'koa'],
    async start(framework, workspace, tls) {
      // Outside the workspace, which only its owner may enter.
      const socketDir = mkdtempSync(join(tmpdir(), 'waitress-proxy-hop-'));
      const socket = join(socketDir, 'app.sock');
      const app = await startShapeApp(
        framework,
        { path: socket },
        {
          trustedProxy: 'unix',
          trustedProxyHeaders: [...SHAPE_HEADERS, 'x-forwarded-port'],
          logger: new RecordingLogger(),
        },
      );
      // nginx's worker may run as another user; nginx-unix.test.ts checks the
      // tight permissions docs/security.md asks for, this one only the headers.
      chmodSync(socketDir, 0o755);
      chmodSync(socket, 0o666);
      const nginx = await startProxy(workspace, tls, {
        kind: 'nginx',
        site: 'nginx/waitress-proxy-unix.conf',
        upstreamPort: 0,
        upstreamSocket: socket,
      });
      return {
        port: nginx.port,
        close: async () => {
          await app.close();
          rmSync(socketDir, { recursive: true, force: true });
        },
      };
    },
    decide: seenDecided,
    honest: (client, port) => ({
      clientAddress: client,
      scheme: 'https',
      host: `localhost:${port}`,
    }),
  },
];

for (const setup of SETUPS) {
  describeWithProxies(
    setup.kinds,
    `${setup.title}: a client naming proxy headers in Connection`,
    () => {
      describe.each(setup.frameworks)('%s', (framework) => {
        let workspace: Workspace | undefined;
        let ca = '';
        let running: Running | undefined;

        beforeAll(async () => {
          workspace = new Workspace();
          const certificate = await makeCertificate();
          ca = certificate.cert;
          running = await setup.start(framework, workspace, workspace.writeTls(certificate));
        }, 30_000);

        afterAll(async () => {
          await stopAll();
          await running?.close();
          workspace?.remove();
        }, 30_000);

        const port = (): number => {
          if (running === undefined) throw new Error('the deployment did not start');
          return running.port;
        };
        const get = (from: string, headers?: OutgoingHttpHeaders) =>
          request({ port: port(), path: '/whoami', from, ca, headers });

        it.each<string>([...NAMED, NAMED.join(', ')])(
          'Connection: %s changes nothing the app sees',
          async (connection) => {
            const client = nextClientAddress();
            const plain = await get(client);
            expect(setup.decide(plain)).toMatchObject({
              status: 200,
              ...setup.honest(client, port()),
            });
            const tricked = await get(client, { connection });
            expect(setup.decide(tricked)).toEqual(setup.decide(plain));
          },
        );

        it.each<[string, string[]]>([
          ['names, then close', [NAMED.join(', '), 'close']],
          ['close, then names', ['close', NAMED.join(', ')]],
        ])('Connection over two lines (%s) changes nothing the app sees', async (_, lines) => {
          const client = nextClientAddress();
          const plain = await get(client);
          const tricked = await get(client, { connection: lines });
          expect(setup.decide(tricked)).toEqual(setup.decide(plain));
        });

        // The older, non-standard spelling some proxies still read.
        it('Proxy-Connection naming every proxy header changes nothing the app sees', async () => {
          const client = nextClientAddress();
          const plain = await get(client);
          const tricked = await get(client, { 'proxy-connection': NAMED.join(', ') });
          expect(setup.decide(tricked)).toEqual(setup.decide(plain));
        });

        it('a client that also says close still has its connection closed after the answer', async () => {
          const exchange = await rawExchange(
            port(),
            ca,
            nextClientAddress(),
            `GET /whoami HTTP/1.1\r\nHost: localhost:${port()}\r\nConnection: ${NAMED.join(', ')}, close\r\n\r\n`,
          );
          expect(exchange).toMatchObject({ status: 200, closedByProxy: true });
        });
      });
    },
  );
}
