/**
 * The app on both platforms on ephemeral loopback ports, for the tests: the
 * options as JSON in the first argument, the ports printed as one JSON line.
 * NestJS 12 is ESM-only, which jest's CommonJS runtime on Node 20 cannot
 * load, so the tests run the app in this process of its own and talk to it
 * over sockets. No logger is passed: the warnings go to `console` (standard
 * error), where the tests look for them.
 *
 * Beside the example's two apps it serves the Express platform's trap,
 * `app.use(waitressProxy(...))` after `init()`, which the tests show does
 * nothing, and the `app.use` before `init()` form.
 */
import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { waitressProxy } from '@waitress-proxy/express';
import type { WaitressProxyOptions } from '@waitress-proxy/express';
import { AppModule, LoggingExceptionFilter, createExpressApp, createFastifyApp } from './app.js';

const options = JSON.parse(process.argv[2] ?? '{}') as WaitressProxyOptions;

/** The trap: Nest's routes (and its not-found handler) come before the middleware. */
async function createUseAfterInitApp(): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule,
    new ExpressAdapter(),
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
    { logger: false },
  );
  app.useGlobalFilters(new LoggingExceptionFilter(app.getHttpAdapter()));
  await app.init();
  app.use(waitressProxy(options));
  return app;
}

const apps = {
  express: await createExpressApp(options, 'consumer'),
  expressUseBeforeInit: await createExpressApp(options),
  expressUseAfterInit: await createUseAfterInitApp(),
  fastify: await createFastifyApp(options),
};
const ports: Record<string, number> = {};
for (const [name, app] of Object.entries(apps)) {
  await app.listen(0, '127.0.0.1');
  ports[name] = (app.getHttpServer().address() as AddressInfo).port;
}
console.log(JSON.stringify(ports));
// Ends when the test closes standard input.
process.stdin.resume();
process.stdin.on('end', () => {
  void Promise.all(Object.values(apps).map((app) => app.close())).then(() => process.exit(0));
});
