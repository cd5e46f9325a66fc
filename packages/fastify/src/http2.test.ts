/**
 * Fastify over HTTP/2 (h2c on loopback): the request has `:authority`
 * instead of `Host`, and `request.raw` is an Http2ServerRequest. The plugin
 * works the same: the view is resolved from the same headers, and proxy
 * headers are set and removed in both `headers` and `rawHeaders`.
 */
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { waitressProxy } from './index.js';
import { PROXY, RecordingLogger, STRANGER, getOverHttp2 as get } from './test-support.js';

describe('Fastify over HTTP/2', () => {
  it('a trusted proxy’s headers are used, a stranger’s removed; :authority is the host', async () => {
    const app = Fastify({ http2: true });
    await app.register(waitressProxy, {
      trustedProxy: PROXY,
      trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'],
      logger: new RecordingLogger(),
    });
    app.get('/', (request) => ({
      ip: request.ip,
      protocol: request.protocol,
      host: request.host,
      hostHeader: request.headers.host ?? null,
      forwardedFor: request.headers['x-forwarded-for'] ?? null,
      rawNames: request.raw.rawHeaders.filter((_, i) => i % 2 === 0),
    }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const port = (app.server.address() as AddressInfo).port;
      const forwarded = {
        'x-forwarded-for': '203.0.113.7',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'shop.example',
      };
      expect(await get(port, PROXY, forwarded)).toEqual({
        ip: '203.0.113.7',
        protocol: 'https',
        host: 'shop.example',
        hostHeader: 'shop.example',
        forwardedFor: '203.0.113.7',
        rawNames: [
          ':path',
          ':method',
          ':authority',
          ':scheme',
          'x-forwarded-for',
          'x-forwarded-proto',
          'x-forwarded-host',
          'Host',
        ],
      });
      expect(await get(port, STRANGER, forwarded)).toEqual({
        ip: STRANGER,
        protocol: 'http',
        host: `127.0.0.1:${port}`,
        hostHeader: null,
        forwardedFor: null,
        rawNames: [':path', ':method', ':authority', ':scheme'],
      });
    } finally {
      await app.close();
    }
  });
});
