/**
 * Koa 2 and 3 over HTTP/2, as `http2.createServer(app.callback())` (h2c)
 * and `http2.createSecureServer({ allowHTTP1: true }, app.callback())`
 * serve it: the request has `:authority` instead of `Host`, and `ctx.req`
 * is an Http2ServerRequest. The middleware works the same: the view comes
 * from the same headers, `:authority` and `Host` follow a forwarded host,
 * and a stranger's proxy headers are removed. Over TLS with allowHTTP1, an
 * HTTP/1.1 client on the same port gets the same answers.
 */
import { request as httpsRequest } from 'node:https';
import { connect, createSecureServer, createServer } from 'node:http2';
import type {
  Http2SecureServer,
  Http2Server,
  Http2ServerRequest,
  Http2ServerResponse,
} from 'node:http2';
import { connect as connectTcp } from 'node:net';
import type { AddressInfo } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { makeCertificate } from '../../../examples/demo/src/certificate.js';
import type { Certificate } from '../../../examples/demo/src/certificate.js';
import { waitressProxy } from './index.js';
import { KOA_VERSIONS, PROXY, STRANGER, quietLogger } from './test-support.js';

const OPTIONS = {
  trustedProxy: PROXY,
  trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'],
};
const FORWARDED = {
  'x-forwarded-for': '203.0.113.7',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'shop.example',
};

let certificate: Certificate;
beforeAll(async () => {
  certificate = await makeCertificate();
});

/** One HTTP/2 GET from `peer` (a 127.0.0.x source), h2c or over TLS. */
async function h2get(
  port: number,
  peer: string,
  headers: Record<string, string>,
  tls: boolean,
): Promise<unknown> {
  if (!peer.startsWith('127.')) throw new Error(`refusing to send from non-loopback ${peer}`);
  const client = connect(`${tls ? 'https' : 'http'}://localhost:${port}`, {
    createConnection: () =>
      tls
        ? connectTls({
            socket: connectTcp({ host: '127.0.0.1', port, localAddress: peer }),
            ca: certificate.cert,
            servername: 'localhost',
            ALPNProtocols: ['h2'],
          })
        : connectTcp({ host: '127.0.0.1', port, localAddress: peer }),
  });
  try {
    const stream = client.request({ ':path': '/x', ...headers });
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (body += chunk));
    await new Promise<void>((done, fail) => {
      stream.on('end', done);
      stream.on('error', fail);
    });
    return JSON.parse(body);
  } finally {
    client.close();
  }
}

/** One HTTP/1.1 GET over TLS from `peer`, to a server with allowHTTP1. */
async function h1get(
  port: number,
  peer: string,
  headers: Record<string, string>,
): Promise<unknown> {
  return new Promise((done, fail) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        localAddress: peer,
        path: '/x',
        servername: 'localhost',
        ca: certificate.cert,
        headers: { host: `localhost:${port}`, ...headers },
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          done(JSON.parse(body));
        });
      },
    );
    req.on('error', fail);
    req.end();
  });
}

describe.each(KOA_VERSIONS)('%s over HTTP/2', (_version, KoaClass) => {
  function app() {
    const koa = new KoaClass();
    koa.use(waitressProxy({ ...OPTIONS, logger: quietLogger() }));
    koa.use((ctx) => {
      ctx.body = {
        ip: ctx.ip,
        protocol: ctx.protocol,
        host: ctx.host,
        href: ctx.href,
        hostHeader: ctx.get('host'),
        authority: ctx.req.headers[':authority'] ?? null,
        forwardedFor: ctx.get('x-forwarded-for'),
      };
    });
    const handle = koa.callback();
    return (req: Http2ServerRequest, res: Http2ServerResponse): void => {
      void handle(req, res);
    };
  }

  async function listen(server: Http2Server | Http2SecureServer): Promise<number> {
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    return (server.address() as AddressInfo).port;
  }

  async function close(server: Http2Server | Http2SecureServer): Promise<void> {
    await new Promise<void>((done) =>
      server.close(() => {
        done();
      }),
    );
  }

  it.each([
    ['h2c, http2.createServer', false],
    ['TLS, http2.createSecureServer', true],
  ])('%s: a trusted proxy is believed, a stranger is not', async (_name, tls) => {
    const server = tls
      ? createSecureServer({ ...certificate, allowHTTP1: true }, app())
      : createServer(app());
    const port = await listen(server);
    try {
      expect(await h2get(port, PROXY, FORWARDED, tls)).toEqual({
        ip: '203.0.113.7',
        protocol: 'https',
        host: 'shop.example',
        href: 'https://shop.example/x',
        hostHeader: 'shop.example',
        authority: 'shop.example',
        forwardedFor: '203.0.113.7',
      });
      const scheme = tls ? 'https' : 'http';
      expect(await h2get(port, STRANGER, FORWARDED, tls)).toEqual({
        ip: STRANGER,
        protocol: scheme,
        host: `localhost:${port}`,
        href: `${scheme}://localhost:${port}/x`,
        hostHeader: '',
        authority: `localhost:${port}`,
        forwardedFor: '',
      });
    } finally {
      await close(server);
    }
  });

  it('TLS with allowHTTP1: an HTTP/1.1 client on the same port gets the same answers', async () => {
    const server = createSecureServer({ ...certificate, allowHTTP1: true }, app());
    const port = await listen(server);
    try {
      expect(await h1get(port, PROXY, FORWARDED)).toMatchObject({
        ip: '203.0.113.7',
        protocol: 'https',
        host: 'shop.example',
        href: 'https://shop.example/x',
      });
      expect(await h1get(port, STRANGER, FORWARDED)).toMatchObject({
        ip: STRANGER,
        protocol: 'https',
        host: `localhost:${port}`,
        forwardedFor: '',
      });
    } finally {
      await close(server);
    }
  });
});
