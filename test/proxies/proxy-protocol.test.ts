/**
 * The PROXY protocol behind real TCP load balancers: HAProxy in `mode tcp`
 * with `send-proxy-v2` and `send-proxy` (examples/haproxy/haproxy-proxy-protocol*.cfg)
 * and nginx's stream module with `proxy_protocol on`
 * (examples/nginx/nginx-stream-proxy-protocol.conf), each in front of the
 * Express, Fastify and Koa apps, whose servers `acceptProxyProtocol` reads
 * with `from: '127.0.0.1'` (the load balancer's address).
 *
 * The load balancer does not speak HTTP, so the address in its header is
 * the client's, and the apps trust no proxy: a client's X-Forwarded-* must
 * be removed, not believed. Clients play from their own 127.x addresses.
 */
import { connect } from 'node:net';
import { FRAMEWORKS } from '../../examples/demo/src/apps/index.js';
import { makeCertificate } from '../../examples/demo/src/certificate.js';
import { request } from './support/client.js';
import type { Reply } from './support/client.js';
import { stopAll } from './support/processes.js';
import { describeWithProxies, startProxy, Workspace } from './support/proxies.js';
import type { ProxyKind } from './support/proxies.js';
import { hasNginxStream, startNginxStream, startPeerApp } from './support/proxy-protocol.js';
import type { PeerApp, PeerReport } from './support/proxy-protocol.js';
import { FORGED, FORGED_HEADERS, forgedValuesIn, nextClientAddress } from './support/sources.js';

interface Balancer {
  readonly title: string;
  readonly proxy: ProxyKind;
  /** The example under examples/. */
  readonly site: string;
}

const BALANCERS: readonly Balancer[] = [
  {
    title: 'HAProxy mode tcp, send-proxy-v2',
    proxy: 'haproxy',
    site: 'haproxy/haproxy-proxy-protocol.cfg',
  },
  {
    title: 'HAProxy mode tcp, send-proxy (v1)',
    proxy: 'haproxy',
    site: 'haproxy/haproxy-proxy-protocol-v1.cfg',
  },
  {
    title: 'nginx stream, proxy_protocol on (v1)',
    proxy: 'nginx',
    site: 'nginx/nginx-stream-proxy-protocol.conf',
  },
];

/** The address the load balancers connect to the apps from. */
const LOAD_BALANCER = '127.0.0.1';

/** The refusals the tests provoke on purpose need no warning on the console. */
const silent = { warn: () => undefined };

function parse(reply: Reply): PeerReport {
  if (reply.status !== 200) throw new Error(`expected 200, got ${reply.status}: ${reply.body}`);
  return JSON.parse(reply.body) as PeerReport;
}

const PROXY_HEADER_NAMES = Object.keys(FORGED_HEADERS);

/**
 * Sends `bytes` on one connection from `from` to `port` and returns what
 * came back once the other side closed.
 */
function raw(port: number, from: string, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress: from });
    let text = '';
    const limit = setTimeout(() => {
      socket.destroy();
      reject(new Error('no close within 10 s'));
    }, 10_000);
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(limit);
      resolve(text);
    });
    // No half-close: nginx's stream module (proxy_half_close off) would end
    // the whole session on the client's FIN, before the answer.
    socket.on('connect', () => {
      socket.write(bytes);
    });
  });
}

const getWhoami = (host: string): string =>
  `GET /whoami HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;

for (const balancer of BALANCERS) {
  const streamMissing = balancer.proxy === 'nginx' && !hasNginxStream();
  const body = (): void => {
    describe.each(FRAMEWORKS)('%s', (framework) => {
      let workspace: Workspace | undefined;
      let app: PeerApp | undefined;
      let port = 0;

      beforeAll(async () => {
        if (streamMissing) {
          throw new Error(
            'nginx stream module not installed: sudo apt-get install libnginx-mod-stream',
          );
        }
        workspace = new Workspace();
        app = await startPeerApp(framework, {}, { from: LOAD_BALANCER, logger: silent });
        if (balancer.proxy === 'nginx') {
          port = (await startNginxStream(workspace, balancer.site, app.port)).port;
        } else {
          const tls = workspace.writeTls(await makeCertificate());
          const started = await startProxy(workspace, tls, {
            kind: balancer.proxy,
            site: balancer.site,
            upstreamPort: app.port,
          });
          port = started.port;
        }
      }, 30_000);

      afterAll(async () => {
        await stopAll();
        await app?.close();
        workspace?.remove();
      }, 30_000);

      it('the app sees the client the header relayed; the load balancer stays the socket’s peer', async () => {
        const client = nextClientAddress();
        const report = parse(await request({ port, path: '/whoami', from: client }));
        expect(report).toMatchObject({
          framework,
          clientAddress: client,
          peerAddress: client,
          socketAddress: LOAD_BALANCER,
          scheme: 'http',
        });
      });

      it('X-Forwarded-* a client sends through the load balancer change nothing and are removed', async () => {
        const client = nextClientAddress();
        const report = parse(
          await request({ port, path: '/whoami', from: client, headers: FORGED_HEADERS }),
        );
        expect(report).toMatchObject({
          clientAddress: client,
          peerAddress: client,
          scheme: 'http',
        });
        expect(
          Object.keys(report.headers).filter((name) => PROXY_HEADER_NAMES.includes(name)),
        ).toEqual([]);
        expect(forgedValuesIn(JSON.stringify(report))).toEqual([]);
      });

      it('a PROXY line a client sends through the load balancer is HTTP garbage: 400, never its address', async () => {
        const client = nextClientAddress();
        const text = await raw(
          port,
          client,
          `PROXY TCP4 ${FORGED.address} 127.0.0.1 4444 80\r\n${getWhoami(`localhost:${port}`)}`,
        );
        expect(text).toMatch(/^HTTP\/1\.1 400 /);
        expect(forgedValuesIn(text)).toEqual([]);
      });

      it('a client that reaches the app directly and sends a PROXY line gets 400: only the load balancer’s header is read', async () => {
        const client = nextClientAddress();
        const appPort = app?.port ?? 0;
        const text = await raw(
          appPort,
          client,
          `PROXY TCP4 ${FORGED.address} 127.0.0.1 4444 80\r\n${getWhoami(`localhost:${appPort}`)}`,
        );
        expect(text).toMatch(/^HTTP\/1\.1 400 /);
        expect(forgedValuesIn(text)).toEqual([]);
      });

      it('a connection from the load balancer’s address without a header is closed unanswered', async () => {
        const appPort = app?.port ?? 0;
        const text = await raw(appPort, LOAD_BALANCER, getWhoami(`localhost:${appPort}`));
        expect(text).toBe('');
      });
    });
  };
  if (streamMissing && process.env.CI !== 'true') {
    console.warn(
      `SKIPPED: ${balancer.title}: nginx's stream module is not installed (sudo apt-get install libnginx-mod-stream)`,
    );
    describe.skip(`${balancer.title} [SKIPPED: libnginx-mod-stream not installed]`, body);
  } else {
    describeWithProxies([balancer.proxy], balancer.title, body);
  }
}

/**
 * An HTTP proxy in front of the TCP load balancer: nginx terminates TLS and
 * writes X-Forwarded-* (examples/nginx/waitress-proxy.conf), HAProxy relays
 * nginx's connection with send-proxy-v2, and the app trusts the address the
 * header carries for nginx, 127.0.0.1. A client that reaches HAProxy
 * directly is carried as itself, untrusted: its forged headers are removed,
 * where an app trusting the balancer's socket address would believe them.
 */
describeWithProxies(['nginx', 'haproxy'], 'nginx (HTTP) → HAProxy mode tcp, send-proxy-v2', () => {
  describe.each(FRAMEWORKS)('%s', (framework) => {
    let workspace: Workspace | undefined;
    let app: PeerApp | undefined;
    let ca = '';
    let nginxPort = 0;
    let haproxyPort = 0;

    beforeAll(async () => {
      workspace = new Workspace();
      app = await startPeerApp(
        framework,
        {
          trustedProxy: '127.0.0.1',
          trustedProxyHeaders: [
            'x-forwarded-for',
            'x-forwarded-host',
            'x-forwarded-proto',
            'x-forwarded-port',
          ],
        },
        { from: LOAD_BALANCER, logger: silent },
      );
      const certificate = await makeCertificate();
      ca = certificate.cert;
      const tls = workspace.writeTls(certificate);
      const haproxy = await startProxy(workspace, tls, {
        kind: 'haproxy',
        site: 'haproxy/haproxy-proxy-protocol.cfg',
        upstreamPort: app.port,
      });
      haproxyPort = haproxy.port;
      const nginx = await startProxy(workspace, tls, {
        kind: 'nginx',
        site: 'nginx/waitress-proxy.conf',
        upstreamPort: haproxy.port,
      });
      nginxPort = nginx.port;
    }, 30_000);

    afterAll(async () => {
      await stopAll();
      await app?.close();
      workspace?.remove();
    }, 30_000);

    it('through nginx: the client and scheme nginx vouched for, with nginx as the peer', async () => {
      const client = nextClientAddress();
      const report = parse(
        await request({
          port: nginxPort,
          path: '/whoami',
          from: client,
          ca,
          headers: FORGED_HEADERS,
        }),
      );
      expect(report).toMatchObject({
        framework,
        clientAddress: client,
        scheme: 'https',
        peerAddress: '127.0.0.1',
        socketAddress: LOAD_BALANCER,
      });
      expect(forgedValuesIn(JSON.stringify(report))).toEqual([]);
    });

    it('straight to HAProxy, around nginx: the header carries the client, whose forged headers are removed', async () => {
      const client = nextClientAddress();
      const report = parse(
        await request({
          port: haproxyPort,
          path: '/whoami',
          from: client,
          headers: FORGED_HEADERS,
        }),
      );
      expect(report).toMatchObject({
        clientAddress: client,
        scheme: 'http',
        peerAddress: client,
        socketAddress: LOAD_BALANCER,
      });
      expect(
        Object.keys(report.headers).filter((name) => PROXY_HEADER_NAMES.includes(name)),
      ).toEqual([]);
      expect(forgedValuesIn(JSON.stringify(report))).toEqual([]);
    });
  });
});
