/**
 * The types, checked by `tsc` (this file is type-checked with the repo) and
 * run: the middleware fits `app.use` under Koa 2's and Koa 3's own types
 * (@types/koa 2 and 3), and the view is typed on `ctx.request` and
 * `ctx.state` through declaration merging on 'koa'.
 */
import Koa from 'koa';
import Koa2 from 'koa2';
import type { ProxyView } from './index.js';
import waitressProxyDefault, { waitressProxy } from './index.js';
import { PROXY, quietLogger, send, start } from './test-support.js';

const options = {
  trustedProxy: PROXY,
  trustedProxyHeaders: ['x-forwarded-for'],
  logger: quietLogger(),
};

it('the default export is the named one', () => {
  expect(waitressProxyDefault).toBe(waitressProxy);
});

it("fits app.use under Koa 2's own types", async () => {
  const app = new Koa2();
  app.use(waitressProxy(options));
  app.use((ctx) => {
    ctx.body = ctx.ip;
  });
  const running = await start(app);
  try {
    const response = await send(running.port, PROXY, '/', ['X-Forwarded-For', '192.0.2.1']);
    expect(response).toEqual({ status: 200, body: '192.0.2.1' });
  } finally {
    await running.close();
  }
});

it('types ctx.request.forwarded and ctx.state.forwarded as the view, in an app with its own state', async () => {
  interface AppState {
    user?: string;
  }
  // app.use returns the app typed with the middleware's state added.
  const app = new Koa<AppState>().use(waitressProxy(options));
  app.use((ctx) => {
    const fromRequest: ProxyView | undefined = ctx.request.forwarded;
    const fromState: ProxyView | undefined = ctx.state.forwarded;
    ctx.body = [fromRequest?.clientAddress, fromState?.peerAddress, ctx.state.user ?? 'none'];
  });
  const running = await start(app);
  try {
    const response = await send(running.port, PROXY, '/', ['X-Forwarded-For', '192.0.2.1']);
    expect(JSON.parse(response.body)).toEqual(['192.0.2.1', PROXY, 'none']);
  } finally {
    await running.close();
  }
});
