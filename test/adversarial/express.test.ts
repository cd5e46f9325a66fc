/**
 * The adversarial corpus through the Express adapter (Express 5) over real
 * sockets: what the app reads through Express's own API (`req.ip`,
 * `req.protocol`, `req.host`, `req.hostname`, `req.headers`) after the
 * middleware ran, and the adapter's 400 through Express's error path.
 */
import { createServer } from 'node:http';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { HostNotAllowedError } from '@waitress-proxy/core';
import { MalformedProxyHeaderError, waitressProxy } from '@waitress-proxy/express';
import { CORPUS } from './corpus.js';
import { observationBody, runCaseOverSocket } from './wire.js';
import type { ServerFactory } from './wire.js';

const expressServer: ServerFactory = (options, maxHeaderSize) => {
  const app = express();
  app.use(waitressProxy({ ...options, logger: { warn: () => undefined } }));
  app.use((req: Request, res: Response) => {
    res.type('application/json').send(
      observationBody(
        {
          clientAddress: req.ip,
          clientPort: req.forwarded?.clientPort,
          scheme: req.protocol,
          host: req.host,
          hostname: req.hostname,
          port: req.forwarded?.port,
        },
        req,
      ),
    );
  });
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (err instanceof MalformedProxyHeaderError || err instanceof HostNotAllowedError) {
      res.status(err.status).send(err.message);
    } else {
      next(err);
    }
  });
  return createServer(maxHeaderSize === undefined ? {} : { maxHeaderSize }, app);
};

describe('adversarial corpus over real sockets: Express 5 adapter', () => {
  it.each(CORPUS.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await runCaseOverSocket(c, expressServer);
  });
});
