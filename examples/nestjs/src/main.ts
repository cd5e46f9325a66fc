/**
 * `pnpm start`: the Nest app on both platforms, behind a proxy on this
 * machine (trusting loopback), on ports 3000 (Express) and 3001 (Fastify).
 */
import { createExpressApp, createFastifyApp } from './app.js';

const options = {
  trustedProxy: 'loopback',
  trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'],
};

const onExpress = await createExpressApp(options);
await onExpress.listen(3000, '127.0.0.1');
const onFastify = await createFastifyApp(options);
await onFastify.listen(3001, '127.0.0.1');
console.log('NestJS behind waitress-proxy: Express on :3000, Fastify on :3001');
