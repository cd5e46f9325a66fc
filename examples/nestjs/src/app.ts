/**
 * One NestJS app, served on either platform. The controller reads the
 * forwarded values the way a Nest app does, through `@Req()`: the adapter has
 * already put them on the platform's request (`req.ip`, `req.protocol`,
 * `req.hostname`, `req.forwarded` on Express; `request.ip`, `request.protocol`,
 * `request.host`, `request.forwarded` on Fastify).
 */
import 'reflect-metadata';
import { Catch, Controller, Get, Module, Req } from '@nestjs/common';
import type { ArgumentsHost, MiddlewareConsumer, NestModule, Type } from '@nestjs/common';
import { BaseExceptionFilter, NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { waitressProxy as expressProxy } from '@waitress-proxy/express';
import type { WaitressProxyOptions } from '@waitress-proxy/express';
import { waitressProxy as fastifyProxy } from '@waitress-proxy/fastify';

/** What the app reports about each request: what a Nest handler can read. */
export interface Report {
  readonly ip: string | undefined;
  readonly protocol: string;
  readonly host: string | undefined;
  readonly forwardedFor: string | null;
}

/** What Express's `req` and Fastify's `request` have in common, after the adapter. */
interface PlatformRequest {
  readonly ip?: string;
  readonly protocol: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly forwarded?: { readonly host: string | undefined };
}

@Controller()
class ReportController {
  @Get()
  report(@Req() req: PlatformRequest): Report {
    const forwardedFor = req.headers['x-forwarded-for'];
    return {
      ip: req.ip,
      protocol: req.protocol,
      host: req.forwarded?.host,
      forwardedFor: typeof forwardedFor === 'string' ? forwardedFor : null,
    };
  }
}

/**
 * An exception filter that logs each error with the client address, as apps
 * do, then answers as Nest does. It sees what the adapter resolved, also for
 * errors Nest raises before any route (a body that is not JSON, a path that
 * does not decode), provided the adapter ran first: on the Express platform,
 * `app.use` before `init()` (see `createExpressApp`).
 */
@Catch()
export class LoggingExceptionFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<PlatformRequest & { readonly url: string }>();
    const forwardedFor = req.headers['x-forwarded-for'];
    console.error(
      `error on ${req.url}: client ${String(req.ip)}, X-Forwarded-For ` +
        (typeof forwardedFor === 'string' ? forwardedFor : '(none)'),
    );
    super.catch(exception, host);
  }
}

// A Nest module is an empty class its decorator describes.
@Module({ controllers: [ReportController] })
// eslint-disable-next-line @typescript-eslint/no-extraneous-class
export class AppModule {}

/**
 * The app module with waitressProxy applied through a `MiddlewareConsumer`.
 * Not the recommended form: Nest installs module middleware after its own
 * body parsers, on a path pattern whose parameter Express decodes first, so
 * a request whose body is not JSON or whose path does not decode reaches
 * the exception filters without passing the middleware, forged headers
 * included. `app.use()` before `init()` (see `createExpressApp`) has no such
 * gap.
 */
export function proxiedAppModule(options: WaitressProxyOptions): Type {
  @Module({ controllers: [ReportController] })
  class ProxiedAppModule implements NestModule {
    configure(consumer: MiddlewareConsumer): void {
      consumer.apply(expressProxy(options)).forRoutes('*');
    }
  }
  return ProxiedAppModule;
}

/** How the Express platform app gets the middleware. */
export type ExpressInstall = 'consumer' | 'use before init';

/**
 * The app on Nest's Express platform, with the middleware from `app.use`
 * before `init()` (the default): first in Express's stack, before Nest's body
 * parsers, routes and not-found handler. Or from the module's
 * `MiddlewareConsumer`, which misses the errors Nest raises before it (see
 * `proxiedAppModule`). Never `app.use` after `init()` (or after `listen()`):
 * Express runs middleware in the order it was added, so a `waitressProxy`
 * added then never runs at all.
 */
export async function createExpressApp(
  options: WaitressProxyOptions,
  install: ExpressInstall = 'use before init',
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(
    install === 'consumer' ? proxiedAppModule(options) : AppModule,
    new ExpressAdapter(),
    // Nest types its options as a class; every Nest app passes a literal.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
    { logger: false },
  );
  if (install === 'use before init') app.use(expressProxy(options));
  app.useGlobalFilters(new LoggingExceptionFilter(app.getHttpAdapter()));
  await app.init();
  return app;
}

/**
 * The app on Nest's Fastify platform. Nest creates Fastify without a
 * logger; the plugin's warnings then go to `console` unless the options name
 * a `logger` or the adapter gets one (`new FastifyAdapter({ logger: true })`).
 */
export async function createFastifyApp(
  options: WaitressProxyOptions,
): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule,
    new FastifyAdapter(),
    // Nest types its options as a class; every Nest app passes a literal.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
    { logger: false },
  );
  await app.register(fastifyProxy, options);
  app.useGlobalFilters(new LoggingExceptionFilter(app.getHttpAdapter()));
  await app.init();
  return app;
}
