/**
 * Both platforms on ephemeral loopback ports, for the tests: the options as
 * JSON in the first argument, the ports printed as one JSON line. NestJS 12
 * is ESM-only, which jest's CommonJS runtime on Node 20 cannot load, so the
 * tests run the app in this process of its own and talk to it over sockets.
 */
import type { AddressInfo } from 'node:net';
import { createExpressApp, createFastifyApp } from './app.js';

const options = { ...(JSON.parse(process.argv[2] ?? '{}') as object), logger: { warn() {} } };
const onExpress = await createExpressApp(options);
await onExpress.listen(0, '127.0.0.1');
const onFastify = await createFastifyApp(options);
await onFastify.listen(0, '127.0.0.1');
const portOf = (server: { address(): unknown }) => (server.address() as AddressInfo).port;
console.log(
  JSON.stringify({
    express: portOf(onExpress.getHttpServer()),
    fastify: portOf(onFastify.getHttpServer()),
  }),
);
// Ends when the test closes standard input.
process.stdin.resume();
process.stdin.on('end', () => {
  void Promise.all([onExpress.close(), onFastify.close()]).then(() => process.exit(0));
});
