/**
 * Fastify 5 in the conformance matrix, twice: with the routes on the root
 * app, and with the routes, their error handler and a request decoration in
 * an encapsulated child plugin registered after the adapter (Fastify gives
 * that child its own Request class: the values must follow there too). The
 * app is created with the `rewriteUrl` that `waitressProxyRewriteUrl` builds
 * from the row's options, so the prefix rows route through Fastify's router,
 * and errors go through `setErrorHandler`, Fastify's own error path.
 * Fastify-only behaviour (its trustProxy option, the start-up checks of the
 * rewrite, hooks before the plugin) is tested in packages/fastify.
 */
import Fastify from 'fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WaitressProxyOptions } from '@waitress-proxy/core';
import { waitressProxy, waitressProxyRewriteUrl } from '@waitress-proxy/fastify';
import { describeConformance, isAdapterError, testCertificate } from './harness.js';
import type { ErrorReport, Harness, Observation, Transport } from './harness.js';

/** The conformance `Observation`, read through Fastify's API. */
function observe(request: FastifyRequest): Observation {
  return {
    view: request.forwarded,
    app: {
      ip: request.ip,
      ips: request.ips ?? [],
      protocol: request.protocol,
      // Fastify has no `secure`: apps compare the protocol, as here.
      secure: request.protocol === 'https',
      // Fastify gives '' where there is no host; the matrix says undefined.
      hostname: request.hostname === '' ? undefined : request.hostname,
      host: request.host === '' ? undefined : request.host,
      url: `${request.protocol}://${request.host}${request.originalUrl}`,
      // The URL Fastify's router matched (after rewriteUrl), without the query.
      path: request.url.split('?', 1)[0]!,
    },
    headers: request.headers as Record<string, string | string[]>,
    rawHeaders: request.raw.rawHeaders,
    socket: {
      remoteAddress: request.socket.remoteAddress!,
      remotePort: request.socket.remotePort!,
    },
  };
}

/** Renders the adapter's error as an app's own handler would, as an `ErrorReport`. */
function reportError(error: unknown, _request: FastifyRequest, reply: FastifyReply): void {
  if (!isAdapterError(error)) throw error;
  const report: ErrorReport = {
    error: {
      name: error.name,
      message: error.message,
      status: error.statusCode,
      expose: error.expose,
    },
  };
  void reply.status(error.statusCode).send(report);
}

/** Every GET path answers the observation; errors go to `reportError`. */
function addRoutes(app: FastifyInstance): void {
  app.setErrorHandler(reportError);
  app.get('/*', (request) => observe(request));
}

/** Fastify's own server for `transport`: `http2: true`, with `https.allowHTTP1` over TLS. */
async function fastifyFor(transport: Transport, options: WaitressProxyOptions) {
  const rewriteUrl = waitressProxyRewriteUrl(options);
  switch (transport) {
    case 'http/1.1':
      return Fastify({ rewriteUrl });
    case 'h2c':
      return Fastify({ rewriteUrl, http2: true });
    case 'h2 over TLS':
      return Fastify({
        rewriteUrl,
        http2: true,
        https: { ...(await testCertificate()), allowHTTP1: true },
      });
  }
}

function harness(name: string, routesIn: 'root' | 'child', transport: Transport): Harness {
  return {
    name: transport === 'http/1.1' ? name : `${name} over ${transport}`,
    transport,
    async createServer(options: WaitressProxyOptions) {
      // Fastify's instance type follows its server's; the routes read only
      // what every server's request has.
      const app = (await fastifyFor(transport, options)) as unknown as FastifyInstance;
      await app.register(waitressProxy, options);
      if (routesIn === 'root') {
        addRoutes(app);
      } else {
        await app.register((child, _options, done) => {
          child.decorateRequest('tenant', 'none');
          addRoutes(child);
          done();
        });
      }
      await app.ready();
      return app.server;
    },
  };
}

describeConformance(harness('Fastify 5', 'root', 'http/1.1'));
describeConformance(
  harness('Fastify 5, routes in an encapsulated child plugin', 'child', 'http/1.1'),
);
// HTTP/2 as Fastify serves it (packages/fastify/src/http2.test.ts has more).
describeConformance(harness('Fastify 5', 'root', 'h2c'));
describeConformance(harness('Fastify 5', 'root', 'h2 over TLS'));
