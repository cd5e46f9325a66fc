/**
 * The Fastify app: the plugin registered with the options, and (for
 * `urlPrefix`) the `rewriteUrl` server option built from the same options,
 * since Fastify routes before any plugin hook runs.
 */
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { waitressProxy, waitressProxyRewriteUrl } from '@waitress-proxy/fastify';
import type { WaitressProxyOptions } from '@waitress-proxy/core';
import { APP_HOST } from './report.js';
import type { AppReport, RunningApp } from './report.js';

export async function startFastifyApp(options: WaitressProxyOptions): Promise<RunningApp> {
  const app = Fastify({ rewriteUrl: waitressProxyRewriteUrl(options) });
  await app.register(waitressProxy, options);

  app.get('/whoami', (request, reply) => {
    const { prefix } = request.forwarded;
    const report: AppReport = {
      framework: 'fastify',
      clientAddress: request.ip,
      scheme: request.protocol,
      // Fastify 5's request.host is the host with its port.
      host: request.host,
      hostname: request.hostname,
      port: request.port ?? undefined,
      prefix,
      path: request.url,
      // originalUrl is the URL as received, prefix included.
      url: `${request.protocol}://${request.host}${request.originalUrl}`,
      headers: request.headers,
    };
    return reply.send(report);
  });

  app.get('/go', (request, reply) =>
    reply.redirect(`${request.protocol}://${request.host}${request.forwarded.prefix}/whoami`),
  );

  await app.listen({ host: APP_HOST, port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    framework: 'fastify',
    port,
    close: async () => {
      // Proxies keep idle connections to the app open.
      app.server.closeAllConnections();
      await app.close();
    },
  };
}
