/**
 * The explain and diagnose options through the Koa middleware, over real
 * sockets, on Koa 2 and 3: the explanation reaches the logger's debug,
 * diagnose warns once per combination, the app sees the same values.
 */
import type { WaitressProxyOptions } from '@waitress-proxy/core';
import { waitressProxy } from './index.js';
import { KOA_VERSIONS, PROXY, STRANGER, send, start } from './test-support.js';

describe.each(KOA_VERSIONS)('%s: explain and diagnose', (_version, KoaClass) => {
  async function run(options: WaitressProxyOptions, peer: string, lines: string[], times = 1) {
    const debug: string[] = [];
    const warn: string[] = [];
    const app = new KoaClass();
    app.use(
      waitressProxy({
        ...options,
        logger: { warn: (m) => warn.push(m), debug: (m) => debug.push(m) },
      }),
    );
    app.use((ctx) => {
      ctx.body = { ip: ctx.ip, protocol: ctx.protocol };
    });
    const running = await start(app);
    const bodies: unknown[] = [];
    try {
      for (let i = 0; i < times; i++) {
        bodies.push(JSON.parse((await send(running.port, peer, '/', lines)).body));
      }
    } finally {
      await running.close();
    }
    return { bodies, debug, warn };
  }

  it('explain: true logs each request through debug', async () => {
    const { bodies, debug } = await run(
      {
        trustedProxy: PROXY,
        trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-proto'],
        explain: true,
      },
      PROXY,
      ['X-Forwarded-For', '203.0.113.7', 'X-Forwarded-Proto', 'https'],
    );
    expect(bodies).toEqual([{ ip: '203.0.113.7', protocol: 'https' }]);
    expect(debug).toHaveLength(1);
    expect(debug[0]).toMatch(/^waitress-proxy: peer 127\.0\.0\.2: trusted proxy/);
  });

  it('diagnose: a loopback peer left out of trustedProxy is named once', async () => {
    const { bodies, warn } = await run(
      { trustedProxy: PROXY, trustedProxyHeaders: 'x-forwarded-for', diagnose: true },
      STRANGER,
      ['X-Forwarded-For', '203.0.113.7'],
      3,
    );
    expect(bodies).toEqual(Array(3).fill({ ip: STRANGER, protocol: 'http' }) as unknown[]);
    expect(warn).toEqual([
      `waitress-proxy: diagnose: ${STRANGER} sent X-Forwarded-For but is not a trusted proxy; ` +
        `if it is your proxy, add "${STRANGER}" to trustedProxy.`,
    ]);
  });
});
