/**
 * One proxy in front of each framework's app: the checks every deployment
 * must pass, whatever the proxy. A deployment is a site file from examples/
 * plus the adapter options its README gives.
 */
import { connect as connectTcp } from 'node:net';
import { checkServerIdentity, connect as connectTls } from 'node:tls';
import { APPS, FRAMEWORKS } from '../../../examples/demo/src/apps/index.js';
import type { AppReport, Framework, RunningApp } from '../../../examples/demo/src/apps/index.js';
import { makeCertificate } from '../../../examples/demo/src/certificate.js';
import type { WaitressProxyOptions } from '@waitress-proxy/core';
import { request } from './client.js';
import type { Reply } from './client.js';
import { stopAll } from './processes.js';
import { describeWithProxies, startProxy, Workspace } from './proxies.js';
import type { ProxyKind, StartedProxy } from './proxies.js';
import { FORGED_HEADERS, HOSTILE_HOSTS, forgedValuesIn, nextClientAddress } from './sources.js';

export interface Deployment {
  readonly proxy: ProxyKind;
  /** The site file under examples/. */
  readonly site: string;
  /** The adapter options, as the example's README gives them. */
  readonly options: WaitressProxyOptions;
  /**
   * The proxy headers that reach the app for an honest request from
   * `client` through the proxy on `port`, once the adapter cut them to the
   * trusted window.
   */
  readonly proxyHeaders: (client: string, port: number) => Record<string, string>;
}

/** The proxy headers the adapter may pass on; everything else must be gone. */
const PROXY_HEADER_NAMES = Object.keys(FORGED_HEADERS);

export function parseReport(reply: Reply): AppReport {
  if (reply.status !== 200) {
    throw new Error(`expected 200, got ${reply.status}: ${reply.body}`);
  }
  return JSON.parse(reply.body) as AppReport;
}

/** The proxy headers that reached the app. */
export function proxyHeadersOf(report: AppReport): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(report.headers).filter(([name]) => PROXY_HEADER_NAMES.includes(name)),
  );
}

/** Starts the apps and one proxy per app before the tests, and stops all of it after them, pass or fail. */
export function useDeployment(
  deployment: Deployment,
  framework: Framework,
): { ca: () => string; app: () => RunningApp; proxy: () => StartedProxy } {
  let workspace: Workspace | undefined;
  let ca: string | undefined;
  let app: RunningApp | undefined;
  let proxy: StartedProxy | undefined;

  beforeAll(async () => {
    const startApp = APPS[framework];
    if (startApp === undefined) throw new Error(`no ${framework} app`);
    workspace = new Workspace();
    const certificate = await makeCertificate();
    ca = certificate.cert;
    const tls = workspace.writeTls(certificate);
    app = await startApp(deployment.options);
    proxy = await startProxy(workspace, tls, {
      kind: deployment.proxy,
      site: deployment.site,
      upstreamPort: app.port,
    });
  }, 30_000);

  afterAll(async () => {
    await stopAll();
    await app?.close();
    workspace?.remove();
  }, 30_000);

  const defined = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} did not start`);
    return value;
  };
  return {
    ca: () => defined(ca, 'the certificate'),
    app: () => defined(app, 'the app'),
    proxy: () => defined(proxy, 'the proxy'),
  };
}

/** The checks every single-proxy deployment passes, for each framework. */
export function describeDeployment(title: string, deployment: Deployment): void {
  const prefix = deployment.options.urlPrefix ?? '';
  describeWithProxies([deployment.proxy], title, () => {
    describe.each(FRAMEWORKS)('%s', (framework) => {
      const running = useDeployment(deployment, framework);
      const get = (path: string, from: string, headers?: Record<string, string>) =>
        request({ port: running.proxy().port, path, from, ca: running.ca(), headers });

      it('the app sees the client address, scheme, host and port the client used', async () => {
        const client = nextClientAddress();
        const port = running.proxy().port;
        const report = parseReport(await get(`${prefix}/whoami`, client));
        expect(report).toMatchObject({
          framework,
          clientAddress: client,
          scheme: 'https',
          host: `localhost:${port}`,
          hostname: 'localhost',
          port,
          prefix,
          path: '/whoami',
          url: `https://localhost:${port}${prefix}/whoami`,
        });
        expect(proxyHeadersOf(report)).toEqual(deployment.proxyHeaders(client, port));
      });

      it('a redirect the app builds from the request sends the client back where it was', async () => {
        const client = nextClientAddress();
        const port = running.proxy().port;
        const reply = await get(`${prefix}/go`, client);
        expect(reply.status).toBe(302);
        expect(reply.headers.location).toBe(`https://localhost:${port}${prefix}/whoami`);
        const location = new URL(reply.headers.location ?? '');
        const followed = parseReport(await get(location.pathname, client));
        expect(followed.url).toBe(reply.headers.location);
      });

      it('proxy headers a client forges through the proxy change nothing and do not reach the app', async () => {
        const client = nextClientAddress();
        const port = running.proxy().port;
        const report = parseReport(await get(`${prefix}/whoami`, client, FORGED_HEADERS));
        expect(report).toMatchObject({
          clientAddress: client,
          scheme: 'https',
          host: `localhost:${port}`,
          port,
          url: `https://localhost:${port}${prefix}/whoami`,
        });
        expect(proxyHeadersOf(report)).toEqual(deployment.proxyHeaders(client, port));
        expect(forgedValuesIn(JSON.stringify(report))).toEqual([]);
      });

      // A Host the client chose may reach the app as text (it is the
      // client's own, as on a direct connection; allowedHosts refuses it),
      // but the proxy's config must never let it choose the client address
      // or the scheme, nor smuggle a host in as structure: a normal answer or
      // a clean 400, never a 500.
      it.each(HOSTILE_HOSTS)(
        'Host %j through the proxy cannot choose the client address or smuggle a host',
        async (host) => {
          const client = nextClientAddress();
          const reply = await get(`${prefix}/whoami`, client, { host });
          expect(reply.status).not.toBeGreaterThanOrEqual(500);
          // Caddy answers a Host that matches no site itself, 200 and empty:
          // the request never reached the app.
          if (reply.status === 200 && reply.body === '') return;
          if (reply.status !== 200) {
            expect(reply.status).toBe(400);
            return;
          }
          const report = JSON.parse(reply.body) as AppReport;
          expect({ clientAddress: report.clientAddress, scheme: report.scheme }).toEqual({
            clientAddress: client,
            scheme: 'https',
          });
          expect(report.hostname).not.toBe('evil.com');
          expect(report.host).not.toMatch(/^evil\.com(:\d+)?$/);
        },
      );

      // Without a Host line (HTTP/1.0 allows that), a proxy may skip the
      // proxy headers it adds only when the request has one (Apache's
      // mod_proxy appends X-Forwarded-Host only then) and pass the client's
      // forged ones on alone. Apache refuses a request whose TLS SNI names a
      // host when it has no Host line; without SNI it takes it.
      it.each([
        ['with', 'localhost'],
        ['without', undefined],
      ] as const)(
        'an HTTP/1.0 request without Host (%s TLS SNI) cannot pass forged proxy headers through the proxy',
        async (_with, servername) => {
          const client = nextClientAddress();
          const lines = Object.entries(FORGED_HEADERS).map(([name, value]) => `${name}: ${value}`);
          const reply = await rawRequest(
            running.proxy().port,
            client,
            running.ca(),
            servername,
            [`GET ${prefix}/whoami HTTP/1.0`, ...lines].join('\r\n'),
          );
          expect(reply.status).not.toBeGreaterThanOrEqual(500);
          // A proxy may refuse such a request itself, or answer it without the app.
          if (reply.status !== 200 || reply.body === '') return;
          const report = JSON.parse(reply.body) as AppReport;
          expect({ clientAddress: report.clientAddress, scheme: report.scheme }).toEqual({
            clientAddress: client,
            scheme: 'https',
          });
          expect(forgedValuesIn(JSON.stringify(report))).toEqual([]);
        },
      );

      // An absolute-form target names a host of its own (RFC 9112 3.2.2),
      // which a proxy may prefer to Host (nginx's $host does): the same
      // hostile hosts, in the request line instead.
      it.each(HOSTILE_HOSTS)(
        'an absolute-form target naming host %j cannot choose the client address or smuggle a host',
        async (host) => {
          const client = nextClientAddress();
          const port = running.proxy().port;
          const reply = await rawRequest(
            port,
            client,
            running.ca(),
            'localhost',
            [
              `GET https://${host}${prefix}/whoami HTTP/1.1`,
              `Host: localhost:${String(port)}`,
              'Connection: close',
            ].join('\r\n'),
          );
          expect(reply.status).not.toBeGreaterThanOrEqual(500);
          if (reply.status === 200 && reply.body === '') return;
          if (reply.status !== 200) {
            expect(reply.status).toBe(400);
            return;
          }
          const report = JSON.parse(reply.body) as AppReport;
          expect({ clientAddress: report.clientAddress, scheme: report.scheme }).toEqual({
            clientAddress: client,
            scheme: 'https',
          });
          expect(report.hostname).not.toBe('evil.com');
          expect(report.host).not.toMatch(/^evil\.com(:\d+)?$/);
        },
      );

      it('proxy headers forged straight to the app from an untrusted address are ignored and removed', async () => {
        const client = nextClientAddress();
        const appPort = running.app().port;
        const reply = await request({
          port: appPort,
          path: `${prefix}/whoami`,
          from: client,
          headers: FORGED_HEADERS,
        });
        const report = parseReport(reply);
        expect(report).toMatchObject({
          clientAddress: client,
          scheme: 'http',
          host: `localhost:${appPort}`,
          port: appPort,
          url: `http://localhost:${appPort}${prefix}/whoami`,
        });
        expect(proxyHeadersOf(report)).toEqual({});
        expect(forgedValuesIn(JSON.stringify(report))).toEqual([]);
      });
    });
  });
}

/**
 * Sends `head` (request line and header lines, without the blank line) over
 * TLS to 127.0.0.1:`port` from `from`, as written, and reads the answer to
 * the end of the connection.
 */
async function rawRequest(
  port: number,
  from: string,
  ca: string,
  servername: string | undefined,
  head: string,
): Promise<{ status: number; body: string }> {
  if (!from.startsWith('127.')) throw new Error(`not a loopback source: ${from}`);
  const text = await new Promise<string>((resolve, reject) => {
    const socket = connectTls(
      {
        socket: connectTcp({ host: '127.0.0.1', port, localAddress: from }),
        ca,
        // Without SNI the certificate is still checked against the CA, and
        // its name against localhost's, the name the certificate is for.
        ...(servername === undefined ? {} : { servername }),
        checkServerIdentity: (_host, certificate) => checkServerIdentity('localhost', certificate),
      },
      () => {
        socket.write(`${head}\r\n\r\n`);
      },
    );
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('end', () => {
      resolve(received);
    });
    socket.on('error', reject);
    socket.setTimeout(10_000, () => {
      socket.destroy(new Error('no answer in 10 s'));
    });
  });
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
  const split = text.indexOf('\r\n\r\n');
  return { status, body: split === -1 ? '' : text.slice(split + 4) };
}
