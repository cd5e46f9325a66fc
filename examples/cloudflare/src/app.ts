/**
 * An Express app behind Cloudflare. `waitressProxy` goes first, trusting
 * CF-Connecting-IP only from Cloudflare's addresses: the ranges source keeps
 * them current while the app runs.
 */
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { waitressProxy } from '@waitress-proxy/express';
import type { TrustedProxySource } from '@waitress-proxy/express';

export function createApp(cloudflareRanges: TrustedProxySource): express.Express {
  const app = express();
  app.use(
    waitressProxy({
      // 127.0.0.1 too, so that curl on this machine can play Cloudflare (and
      // `curl --interface 127.0.0.2` anyone else). In production: cloudflareRanges alone.
      trustedProxy: ['127.0.0.1', cloudflareRanges],
      trustedProxyHeaders: 'cf-connecting-ip',
    }),
  );

  app.get('/', (req, res) => {
    res.json({
      ip: req.ip,
      // Still here only when it came from Cloudflare: a forged one is removed.
      cfConnectingIp: req.get('cf-connecting-ip') ?? null,
      peer: req.socket.remoteAddress,
    });
  });

  // A 503 while Cloudflare's ranges could not be loaded at start-up; a 400
  // for a malformed CF-Connecting-IP from Cloudflare.
  app.use((err: Error & { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    res.status(err.status ?? 500).json({ error: err.message });
  });
  return app;
}
