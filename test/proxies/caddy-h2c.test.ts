/**
 * Caddy in front of an app that serves HTTP/2 without TLS
 * (examples/caddy/Caddyfile-h2c, `reverse_proxy h2c://...`): Koa on
 * `http2.createServer`, Fastify with `http2: true`. Caddy sends the client's
 * host as `:authority` and its `X-Forwarded-*`; the app must see the client,
 * `https` and the client's host in its getters, in `Host` and in
 * `:authority` alike. Straight to the app, a stranger's proxy headers are
 * removed, and a request whose Host and `:authority` disagree is a 400 from
 * any peer (RFC 9113 section 8.3.1).
 */
import { connect } from 'node:http2';
import type { OutgoingHttpHeaders } from 'node:http2';
import { connect as connectTcp } from 'node:net';
import { makeCertificate } from '../../examples/demo/src/certificate.js';
import { request } from './support/client.js';
import { stopAll } from './support/processes.js';
import { describeWithProxies, startProxy, Workspace } from './support/proxies.js';
import type { StartedProxy } from './support/proxies.js';
import { RecordingLogger, startShapeApp } from './support/shape-apps.js';
import type { Seen, ShapeApp, ShapeFramework } from './support/shape-apps.js';
import { FORGED_HEADERS, forgedValuesIn, nextClientAddress } from './support/sources.js';

// Express 4 and 5 cannot serve HTTP/2.
const FRAMEWORKS: readonly ShapeFramework[] = ['fastify', 'koa'];

/** One HTTP/2 GET /whoami over h2c to 127.0.0.1:`port` from `from`. */
async function h2c(
  port: number,
  from: string,
  headers: OutgoingHttpHeaders,
): Promise<{ status: number; body: string }> {
  if (!from.startsWith('127.')) throw new Error(`refusing to send from non-loopback ${from}`);
  const client = connect(`http://127.0.0.1:${port}`, {
    createConnection: () => connectTcp({ host: '127.0.0.1', port, localAddress: from }),
  });
  try {
    return await new Promise((done, fail) => {
      client.on('error', fail);
      const stream = client.request({ ':path': '/whoami', ...headers });
      let status = 0;
      let body = '';
      stream.on('response', (head) => (status = Number(head[':status'])));
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (body += chunk));
      stream.on('end', () => {
        done({ status, body });
      });
      stream.on('error', fail);
    });
  } finally {
    client.close();
  }
}

function parse(reply: { status: number; body: string }): Seen {
  if (reply.status !== 200) throw new Error(`expected 200, got ${reply.status}: ${reply.body}`);
  return JSON.parse(reply.body) as Seen;
}

describeWithProxies(['caddy'], 'Caddy to an app over h2c', () => {
  describe.each(FRAMEWORKS)('%s', (framework) => {
    let workspace: Workspace;
    let ca: string;
    let app: ShapeApp;
    let proxy: StartedProxy;
    const logger = new RecordingLogger();

    beforeAll(async () => {
      workspace = new Workspace();
      const certificate = await makeCertificate();
      ca = certificate.cert;
      const tls = workspace.writeTls(certificate);
      app = await startShapeApp(
        framework,
        { h2c: true },
        {
          trustedProxy: '127.0.0.1',
          trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto'],
          allowedHosts: ['localhost'],
          logger,
        },
      );
      proxy = await startProxy(workspace, tls, {
        kind: 'caddy',
        site: 'caddy/Caddyfile-h2c',
        upstreamPort: app.port,
      });
    }, 30_000);

    afterAll(async () => {
      await stopAll();
      await app.close();
      workspace.remove();
    }, 30_000);

    const viaCaddy = (from: string, headers?: Record<string, string>) =>
      request({ port: proxy.port, path: '/whoami', from, ca, headers });

    it('the app sees the client, https and the client’s host, in Host and :authority alike', async () => {
      const client = nextClientAddress();
      const seen = parse(await viaCaddy(client));
      const host = `localhost:${proxy.port}`;
      expect(seen).toMatchObject({
        httpVersion: '2.0',
        clientAddress: client,
        scheme: 'https',
        host,
        view: { peerAddress: '127.0.0.1', peerTrusted: true, host },
      });
      expect(seen.headers).toMatchObject({
        ':authority': host,
        host,
        'x-forwarded-for': client,
        'x-forwarded-proto': 'https',
      });
    });

    it('proxy headers a client forges through Caddy change nothing and do not reach the app', async () => {
      const client = nextClientAddress();
      const seen = parse(await viaCaddy(client, FORGED_HEADERS));
      expect(seen).toMatchObject({
        clientAddress: client,
        scheme: 'https',
        host: `localhost:${proxy.port}`,
      });
      expect(forgedValuesIn(JSON.stringify(seen))).toEqual([]);
    });

    it('proxy headers forged straight to the app over h2c are ignored and removed', async () => {
      const stranger = nextClientAddress();
      const authority = `localhost:${app.port}`;
      const seen = parse(
        await h2c(app.port, stranger, { ':authority': authority, ...FORGED_HEADERS }),
      );
      expect(seen).toMatchObject({
        httpVersion: '2.0',
        clientAddress: stranger,
        scheme: 'http',
        host: authority,
        view: { peerTrusted: false },
      });
      expect(seen.headers[':authority']).toBe(authority);
      expect(forgedValuesIn(JSON.stringify(seen))).toEqual([]);
    });

    // allowedHosts passes 'localhost' on either side: only the disagreement
    // is refused, from a stranger and from Caddy's own address alike.
    it.each([
      ['a stranger', 'localhost', 'evil.example'],
      ['a stranger', 'evil.example', 'localhost'],
      ['the trusted address', 'localhost', 'evil.example'],
    ])(
      'from %s, Host %j beside :authority %j is a 400 naming Host',
      async (who, host, authority) => {
        const from = who === 'a stranger' ? nextClientAddress() : '127.0.0.1';
        const reply = await h2c(app.port, from, {
          ':authority': authority,
          host,
          'x-forwarded-host': 'localhost',
        });
        expect(reply.status).toBe(400);
        // Fastify answers JSON, Koa the message as text.
        expect(reply.body).toMatch(/Header \\?"Host\\?" malformed\./);
        expect(reply.body).not.toContain('evil.example');
      },
    );
  });
});
