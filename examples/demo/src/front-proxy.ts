/**
 * The demo's front proxy: TLS ends here, and each app is served under its
 * own prefix (`/express/`, `/fastify/`, `/koa/`), passed on unstripped.
 * Built on http-proxy-3, the maintained TypeScript rewrite of node-http-proxy
 * (which has had no release since 2020). It sets the headers waitress's
 * reverse-proxy documentation asks of nginx, the same way nginx does:
 * X-Forwarded-For appended to, X-Forwarded-Proto, -Host and -Port replaced.
 */
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createProxyServer } from 'http-proxy-3';
import type { Certificate } from './certificate.js';

export interface Route {
  /** A path prefix without trailing slash, e.g. `/express`. */
  readonly prefix: string;
  /** The app's port on 127.0.0.1. */
  readonly port: number;
}

export interface FrontProxy {
  readonly port: number;
  close(): Promise<void>;
}

export async function startFrontProxy(
  certificate: Certificate,
  routes: readonly Route[],
): Promise<FrontProxy> {
  // xfwd off: http-proxy's own X-Forwarded-* appends to Proto and Host too,
  // which makes them lists (waitress reads them as single values).
  const proxy = createProxyServer({ xfwd: false });
  proxy.on('proxyReq', (proxyReq, req) => {
    const socket = req.socket;
    const client = socket.remoteAddress ?? '';
    // Node joins repeated X-Forwarded-For lines into one string.
    const prior = req.headers['x-forwarded-for'];
    proxyReq.setHeader(
      'x-forwarded-for',
      prior === undefined ? client : `${String(prior)}, ${client}`,
    );
    proxyReq.setHeader('x-forwarded-proto', 'https');
    proxyReq.setHeader('x-forwarded-host', `${hostnameOf(req.headers.host)}:${socket.localPort}`);
    proxyReq.setHeader('x-forwarded-port', String(socket.localPort));
  });

  const server: Server = createServer(
    { key: certificate.key, cert: certificate.cert },
    (req, res) => {
      const url = req.url ?? '/';
      const route = routes.find((candidate) => url.startsWith(`${candidate.prefix}/`));
      if (route === undefined) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('no app here\n');
        return;
      }
      proxy.web(req, res, { target: `http://127.0.0.1:${route.port}` }, (error) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`bad gateway: ${error.message}\n`);
      });
    },
  );

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => {
          proxy.close();
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

/** nginx's $host: the Host header without its port. */
function hostnameOf(host: string | undefined): string {
  if (host === undefined) return 'localhost';
  const end = host.startsWith('[') ? host.indexOf(']') + 1 : host.indexOf(':');
  return end > 0 ? host.slice(0, end) : host;
}
