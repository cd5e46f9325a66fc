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
import { describeConformance, isAdapterError } from './harness.js';
import type { ErrorReport, Harness, Observation } from './harness.js';

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

function harness(name: string, routesIn: 'root' | 'child'): Harness {
  return {
    name,
    async createServer(options: WaitressProxyOptions) {
      const app = Fastify({ rewriteUrl: waitressProxyRewriteUrl(options) });
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

describeConformance(harness('Fastify 5', 'root'));
describeConformance(harness('Fastify 5, routes in an encapsulated child plugin', 'child'));
