/** The demo's apps, one per framework, all answering the same two routes. */
import { startExpressApp } from './express.js';
import { startFastifyApp } from './fastify.js';
import { startKoaApp } from './koa.js';
import type { Framework, StartApp } from './report.js';

export type { AppReport, Framework, RunningApp, StartApp } from './report.js';
export { APP_HOST } from './report.js';

export const APPS: Readonly<Partial<Record<Framework, StartApp>>> = {
  express: startExpressApp,
  fastify: startFastifyApp,
  koa: startKoaApp,
};

/** The frameworks with an app, in display order. */
export const FRAMEWORKS: readonly Framework[] = (['express', 'fastify', 'koa'] as const).filter(
  (framework) => APPS[framework] !== undefined,
);
