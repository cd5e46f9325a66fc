/**
 * The adversarial corpus through the Fastify adapter (Fastify 5) over real
 * sockets: what a route reads through Fastify's own API (`request.ip`,
 * `request.protocol`, `request.host`, `request.hostname`, `request.headers`)
 * after the plugin ran, and the adapter's 400 through `setErrorHandler`.
 */
import { createServer } from 'node:http';
import Fastify from 'fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HostNotAllowedError } from '@waitress-proxy/core';
import {
  MalformedProxyHeaderError,
  waitressProxy,
  waitressProxyRewriteUrl,
} from '@waitress-proxy/fastify';
import { CORPUS } from './corpus.js';
import { observationBody, runCaseOverSocket } from './wire.js';
import type { ServerFactory } from './wire.js';

const fastifyServer: ServerFactory = async (caseOptions, maxHeaderSize) => {
  const options = { ...caseOptions, logger: { warn: () => undefined } };
  const app = Fastify({
    rewriteUrl: waitressProxyRewriteUrl(options),
    serverFactory: (handler) =>
      createServer(maxHeaderSize === undefined ? {} : { maxHeaderSize }, handler),
  });
  await app.register(waitressProxy, options);
  app.setErrorHandler((error: unknown, _request: FastifyRequest, reply: FastifyReply) => {
    if (!(error instanceof MalformedProxyHeaderError || error instanceof HostNotAllowedError)) {
      throw error;
    }
    void reply.status(error.statusCode).type('text/plain').send(error.message);
  });
  app.get('/*', (request, reply) => {
    void reply.type('application/json').send(
      observationBody(
        {
          clientAddress: request.ip,
          clientPort: request.forwarded.clientPort,
          scheme: request.protocol,
          host: request.host,
          hostname: request.hostname,
          port: request.forwarded.port,
        },
        request.raw,
      ),
    );
  });
  await app.ready();
  return app.server;
};

describe('adversarial corpus over real sockets: Fastify 5 adapter', () => {
  it.each(CORPUS.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await runCaseOverSocket(c, fastifyServer);
  });
});
