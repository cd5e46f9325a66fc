/** The Express app: `app.use(waitressProxy(options))`, then ordinary Express. */
import { createServer } from 'node:http';
import express from 'express';
import type { ErrorRequestHandler } from 'express';
import { waitressProxy } from '@waitress-proxy/express';
import type { WaitressProxyOptions } from '@waitress-proxy/core';
import { listen } from './report.js';
import type { AppReport, RunningApp } from './report.js';

export function startExpressApp(options: WaitressProxyOptions): Promise<RunningApp> {
  const app = express();
  app.use(waitressProxy(options));

  app.get('/whoami', (req, res) => {
    // Express 5's req.host is the host with its port; Express 4 would need req.get('host').
    const origin = `${req.protocol}://${req.host}`;
    const report: AppReport = {
      framework: 'express',
      clientAddress: req.ip,
      scheme: req.protocol,
      host: req.host,
      hostname: req.hostname,
      port: req.forwarded?.port,
      prefix: req.baseUrl,
      path: req.path,
      url: `${origin}${req.originalUrl}`,
      headers: req.headers,
    };
    res.json(report);
  });

  app.get('/go', (req, res) => {
    res.redirect(`${req.protocol}://${req.host}${req.baseUrl}/whoami`);
  });

  // A malformed header from a trusted proxy arrives here as a 400 error.
  const onError: ErrorRequestHandler = (
    error: { status?: number; message?: string },
    _req,
    res,
    next,
  ) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    res.status(error.status ?? 500).json({ error: error.message });
  };
  app.use(onError);

  return listen(createServer(app), 'express');
}
