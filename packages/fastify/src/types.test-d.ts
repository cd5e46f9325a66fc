/**
 * Type tests, checked by `pnpm typecheck` (tsc) and never run: the plugin's
 * options are the core's, `request.forwarded` is a `ProxyView` by declaration
 * merging, and the rewrite fits Fastify's `rewriteUrl` option. Each
 * `@ts-expect-error` fails the check if the line it guards starts compiling.
 */
import Fastify from 'fastify';
import type { FastifyPluginCallback, FastifyRequest, FastifyServerOptions } from 'fastify';
import waitressProxy, {
  MalformedProxyHeaderError,
  waitressProxy as namedWaitressProxy,
  waitressProxyRewriteUrl,
} from './index.js';
import type { FastifyWaitressProxyOptions, ProxyView, WaitressProxyOptions } from './index.js';

/** Exact type equality (the usual conditional-type trick, stricter than `extends`). */
type Equal<A, B> =
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the trick needs T
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;

export type Checks = [
  Assert<Equal<typeof waitressProxy, typeof namedWaitressProxy>>,
  Assert<Equal<FastifyWaitressProxyOptions, WaitressProxyOptions>>,
  Assert<Equal<typeof waitressProxy, FastifyPluginCallback<WaitressProxyOptions>>>,
  Assert<Equal<FastifyRequest['forwarded'], ProxyView>>,
];

const options = {
  trustedProxy: '10.0.0.5',
  trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-proto'],
  urlPrefix: '/app',
} satisfies WaitressProxyOptions;

const rewriteUrl: FastifyServerOptions['rewriteUrl'] = waitressProxyRewriteUrl(options);
const app = Fastify({ rewriteUrl });
void app.register(waitressProxy, options);
void app.register(namedWaitressProxy);
// @ts-expect-error trustedProxyCount is a number
void app.register(waitressProxy, { trustedProxy: '10.0.0.5', trustedProxyCount: '2' });
// @ts-expect-error urlScheme is 'http' or 'https'
waitressProxyRewriteUrl({ urlScheme: 'ftp' });

app.get('/', (request) => {
  const view: ProxyView = request.forwarded;
  const client: string = request.forwarded.clientAddress;
  const scheme: 'http' | 'https' = request.forwarded.scheme;
  const port: number = request.forwarded.port;
  // The view is read-only: the plugin owns it.
  // @ts-expect-error clientAddress is readonly
  request.forwarded.clientAddress = '192.0.2.1';
  return { client, scheme, port, view };
});

app.setErrorHandler((error, _request, reply) => {
  if (error instanceof MalformedProxyHeaderError) {
    const status: 400 = error.statusCode;
    const header: string = error.header;
    return reply.status(status).send({ header });
  }
  throw error;
});
