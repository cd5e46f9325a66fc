/**
 * A Fastify app behind a reverse proxy. The plugin is registered first; every
 * hook and route after it, in this app and in the plugins registered after
 * it, sees the request as the client sent it to the proxy.
 */
import Fastify from 'fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  MalformedProxyHeaderError,
  waitressProxy,
  waitressProxyRewriteUrl,
} from '@waitress-proxy/fastify';
import type { WaitressProxyOptions } from '@waitress-proxy/fastify';

/** What a request looks like to the app, for the example's answers. */
function whatTheAppSees(request: FastifyRequest) {
  return {
    url: `${request.protocol}://${request.host}${request.originalUrl}`,
    ip: request.ip,
    ips: request.ips,
    protocol: request.protocol,
    host: request.host,
    hostname: request.hostname,
    port: request.port,
    // With urlPrefix, what Fastify routed (the prefix stripped by rewriteUrl).
    routedUrl: request.url,
    forwarded: request.forwarded,
  };
}

export async function createApp(options: WaitressProxyOptions): Promise<FastifyInstance> {
  // The prefix must be stripped before Fastify routes: rewriteUrl, built
  // from the same options (the plugin refuses to start without it).
  const app = Fastify({ logger: true, rewriteUrl: waitressProxyRewriteUrl(options) });
  await app.register(waitressProxy, options);

  // A malformed proxy header from the trusted proxy arrives here as a 400.
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof MalformedProxyHeaderError) {
      return reply.status(error.statusCode).send({ error: error.message });
    }
    request.log.error(error);
    return reply.status(500).send({ error: 'Internal Server Error' });
  });

  app.get('/', (request) => whatTheAppSees(request));

  // An encapsulated plugin registered after it sees the same values.
  await app.register(
    (api, _options, done) => {
      api.get('/whoami', (request) => whatTheAppSees(request));
      done();
    },
    { prefix: '/api' },
  );
  return app;
}
