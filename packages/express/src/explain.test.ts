/**
 * The explain and diagnose options through Express, over real sockets: the
 * explanation reaches the logger's debug, diagnose warns once per
 * combination, and the app sees what it would see without them.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { waitressProxy } from './index.js';
import type { WaitressProxyOptions } from './index.js';

async function start(options: WaitressProxyOptions) {
  const debug: string[] = [];
  const warn: string[] = [];
  const app = express();
  app.use(
    waitressProxy({
      ...options,
      logger: { warn: (m) => warn.push(m), debug: (m) => debug.push(m) },
    }),
  );
  app.get('/', (req, res) => {
    res.json({ ip: req.ip, protocol: req.protocol });
  });
  const server = await new Promise<Server>((done) => {
    const listening = app.listen(0, '127.0.0.1', () => {
      done(listening);
    });
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { server, url, debug, warn };
}

describe('Express: explain and diagnose', () => {
  it('explain: true logs each request through debug, and the app sees the same values', async () => {
    const { server, url, debug } = await start({
      trustedProxy: 'loopback',
      trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-proto'],
      explain: true,
    });
    try {
      const response = await fetch(url, {
        headers: { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' },
      });
      expect(await response.json()).toEqual({ ip: '203.0.113.7', protocol: 'https' });
      expect(debug).toHaveLength(1);
      expect(debug[0]).toMatch(
        /^waitress-proxy: peer 127\.0\.0\.1: trusted proxy, matches trustedProxy entry "loopback"\n/,
      );
      expect(debug[0]).toContain('\n  client 203.0.113.7 from X-Forwarded-For\n');
    } finally {
      server.close();
    }
  });

  it('diagnose: a loopback proxy left out of trustedProxy is named once, with the fix', async () => {
    const { server, url, warn } = await start({
      trustedProxy: '10.0.0.5',
      trustedProxyHeaders: 'x-forwarded-for',
      diagnose: true,
    });
    try {
      for (let i = 0; i < 3; i++) {
        const response = await fetch(url, { headers: { 'x-forwarded-for': '203.0.113.7' } });
        expect(await response.json()).toEqual({ ip: '127.0.0.1', protocol: 'http' });
      }
      expect(warn).toEqual([
        'waitress-proxy: diagnose: 127.0.0.1 sent X-Forwarded-For but is not a trusted proxy; ' +
          'if it is your proxy, add "127.0.0.1" to trustedProxy.',
      ]);
    } finally {
      server.close();
    }
  });
});
