/**
 * An Express app behind a reverse proxy. `waitressProxy` goes first; every
 * route after it sees the request as the client sent it to the proxy.
 */
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { MalformedProxyHeaderError, waitressProxy } from '@waitress-proxy/express';
import type { WaitressProxyOptions } from '@waitress-proxy/express';

/** What a request looks like to the app, for the demo's answers. */
function whatTheAppSees(req: Request) {
  return {
    url: `${req.protocol}://${req.get('host') ?? ''}${req.originalUrl}`,
    ip: req.ip,
    ips: req.ips,
    protocol: req.protocol,
    secure: req.secure,
    hostname: req.hostname,
    host: req.host,
    baseUrl: req.baseUrl,
    path: req.path,
    forwarded: req.forwarded,
  };
}

export function createApp(options: WaitressProxyOptions): express.Express {
  const app = express();
  app.use(waitressProxy(options));

  app.get('/', (req, res) => {
    res.json(whatTheAppSees(req));
  });

  // Mounted Routers see the urlPrefix in req.baseUrl too (`/foo/api`).
  const api = express.Router();
  api.get('/whoami', (req, res) => {
    res.json(whatTheAppSees(req));
  });
  app.use('/api', api);

  // A malformed proxy header from the trusted proxy arrives here as a 400.
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (err instanceof MalformedProxyHeaderError) {
      res.status(err.status).json({ error: err.message });
      return;
    }
    next(err);
  });
  return app;
}
