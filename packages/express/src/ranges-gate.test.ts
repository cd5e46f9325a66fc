/**
 * A range source in trustedProxy (`@waitress-proxy/ranges`), over real
 * sockets: requests that arrive before its first load wait for it, and a
 * failed first load is a 503 whose error handler sees nothing forged.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import type { TrustedProxySource } from '@waitress-proxy/core';
import { waitressProxy } from './index.js';

/** A source that trusts 127.0.0.1 once the test lets its first load end. */
function deferredSource() {
  let loaded = false;
  let settle!: { resolve: () => void; reject: (error: Error) => void };
  const ready = new Promise<void>((resolve, reject) => {
    settle = {
      resolve: () => {
        loaded = true;
        resolve();
      },
      reject,
    };
  });
  const source: TrustedProxySource = {
    contains: (address) => loaded && address === '127.0.0.1',
    ready: () => ready,
  };
  return { source, settle };
}

async function start(source: TrustedProxySource): Promise<{ server: Server; url: string }> {
  const app = express();
  app.use(waitressProxy({ trustedProxy: source, trustedProxyHeaders: 'x-forwarded-for' }));
  app.get('/', (req, res) => {
    res.json({ ip: req.ip });
  });
  app.use((err: Error & { status?: number }, req: Request, res: Response, _next: NextFunction) => {
    res.status(err.status ?? 500).json({
      error: err.message,
      ip: req.ip,
      xff: req.headers['x-forwarded-for'] ?? null,
    });
  });
  const server = await new Promise<Server>((done) => {
    const listening = app.listen(0, '127.0.0.1', () => {
      done(listening);
    });
  });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

const forged = { 'x-forwarded-for': '198.51.100.7' };

describe('Express: a range source in trustedProxy', () => {
  it('holds a request that arrives before the first load, then answers with the trusted view', async () => {
    const { source, settle } = deferredSource();
    const { server, url } = await start(source);
    try {
      let answered = false;
      const pending = fetch(url, { headers: forged }).then(async (response) => {
        answered = true;
        return { status: response.status, body: await response.json() };
      });
      await new Promise((done) => setTimeout(done, 100));
      expect(answered).toBe(false);
      settle.resolve();
      expect(await pending).toEqual({ status: 200, body: { ip: '198.51.100.7' } });
    } finally {
      server.close();
    }
  });

  it('answers 503 when the first load failed, and the error handler sees no forged header', async () => {
    const { source, settle } = deferredSource();
    const { server, url } = await start(source);
    try {
      settle.reject(new Error('connect ECONNREFUSED'));
      const response = await fetch(url, { headers: forged });
      expect({ status: response.status, body: await response.json() }).toEqual({
        status: 503,
        body: {
          error: 'Service Unavailable: the trusted proxy ranges could not be loaded.',
          ip: '127.0.0.1',
          xff: null,
        },
      });
    } finally {
      server.close();
    }
  });
});
