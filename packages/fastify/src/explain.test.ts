/**
 * The explain and diagnose options through the Fastify plugin, over real
 * sockets: the explanation goes to `request.log.debug` (with the request id),
 * diagnose warns once per combination through `request.log`, and the app
 * sees what it would see without them.
 */
import Fastify from 'fastify';
import { waitressProxy } from './index.js';
import { exchangeAll, LogLines, PROXY, STRANGER } from './test-support.js';

async function appWith(options: Parameters<typeof waitressProxy>[1], lines: LogLines) {
  const app = Fastify({ logger: { level: 'debug', stream: lines } });
  await app.register(waitressProxy, options);
  app.get('/', (request) => ({ ip: request.ip, protocol: request.protocol }));
  return app;
}

describe('Fastify: explain and diagnose', () => {
  it('explain: true writes each explanation to request.log.debug, with the request id', async () => {
    const lines = new LogLines();
    const app = await appWith(
      {
        trustedProxy: PROXY,
        trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-proto'],
        explain: true,
      },
      lines,
    );
    const [response] = await exchangeAll(app, [
      { peer: PROXY, lines: ['X-Forwarded-For', '203.0.113.7', 'X-Forwarded-Proto', 'https'] },
    ]);
    expect(response?.json).toEqual({ ip: '203.0.113.7', protocol: 'https' });
    const explained = lines.lines.filter(
      (line) => typeof line.msg === 'string' && line.msg.startsWith('waitress-proxy: peer'),
    );
    expect(explained).toHaveLength(1);
    expect(explained[0]).toMatchObject({ level: 20, reqId: expect.any(String) as unknown });
    expect(explained[0]?.msg).toContain('\n  client 203.0.113.7 from X-Forwarded-For');
  });

  it('diagnose: a loopback peer left out of trustedProxy is named once, with the fix', async () => {
    const lines = new LogLines();
    const app = await appWith(
      { trustedProxy: PROXY, trustedProxyHeaders: 'x-forwarded-for', diagnose: true },
      lines,
    );
    const forged = { peer: STRANGER, lines: ['X-Forwarded-For', '203.0.113.7'] };
    const responses = await exchangeAll(app, [forged, forged, forged]);
    expect(responses.map((r) => r.json)).toEqual(
      Array(3).fill({ ip: STRANGER, protocol: 'http' }) as unknown[],
    );
    const warnings = lines.lines.filter(
      (line) => typeof line.msg === 'string' && line.msg.startsWith('waitress-proxy: diagnose:'),
    );
    expect(warnings.map((line) => line.msg)).toEqual([
      `waitress-proxy: diagnose: ${STRANGER} sent X-Forwarded-For but is not a trusted proxy; ` +
        `if it is your proxy, add "${STRANGER}" to trustedProxy.`,
    ]);
  });
});
