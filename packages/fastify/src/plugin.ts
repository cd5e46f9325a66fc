/**
 * The Fastify plugin. It only translates: Fastify's request into the core's
 * input, the core's view onto Fastify's request properties, and the core's
 * malformed-header error into Fastify's error path. Every rule lives in
 * `@waitress-proxy/core`.
 */
import {
  applyHeaderChanges,
  compileOptions,
  requestInput,
  resolve,
  trustSourcesReady,
  TrustedRangesUnavailableError,
  WaitressProxyConfigError,
} from '@waitress-proxy/core';
import type {
  CompiledOptions,
  ProxyLogger,
  ProxyView,
  WaitressProxyOptions,
} from '@waitress-proxy/core';
import type { FastifyInstance, FastifyPluginCallback } from 'fastify';
import fp from 'fastify-plugin';
import { followView } from './request-getters.js';
import { prefixStrippedBy } from './rewrite-url.js';
import { serverOptionsOf } from './server-options.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * What the app should see behind its proxies, as `@waitress-proxy/core`
     * resolved it: client address and port, scheme, host, port, prefix and
     * path. Set in the plugin's `onRequest` hook, so every later hook and
     * the handler can read it; `null` in hooks that run before the plugin's.
     */
    forwarded: ProxyView;
  }
}

/** The plugin's options: `@waitress-proxy/core`'s, unchanged. */
export type FastifyWaitressProxyOptions = WaitressProxyOptions;

const PLUGIN_NAME = '@waitress-proxy/fastify';

const plugin: FastifyPluginCallback<FastifyWaitressProxyOptions> = (fastify, options, done) => {
  let compiled: CompiledOptions;
  try {
    compiled = install(fastify, options);
  } catch (error) {
    // Bad options fail `app.register()` (and `ready()`/`listen()`), at start-up.
    done(error as Error);
    return;
  }
  // Range sources in trustedProxy (`@waitress-proxy/ranges`): the app starts
  // once their first load succeeded, and fails to start when it failed, so no
  // request is ever answered without the ranges the user asked to trust.
  if (compiled.trustSources.length === 0) {
    done();
    return;
  }
  trustSourcesReady(compiled).then(
    () => {
      done();
    },
    (error: unknown) => {
      done(new TrustedRangesUnavailableError(error));
    },
  );
};

/**
 * Whether Fastify was created without a logger (its default, and NestJS's
 * FastifyAdapter's): `fastify.log` is then abstract-logging, one no-op for
 * every level and no `level`. pino always has a `level`, so a logger the app
 * silenced on purpose (`level: 'silent'`) is not taken for a missing one.
 */
function hasNoLogger(log: FastifyInstance['log']): boolean {
  return typeof (log as { level?: unknown }).level !== 'string' && log.warn === log.error;
}

function install(fastify: FastifyInstance, options: WaitressProxyOptions): CompiledOptions {
  // Warnings at start-up go to the app's logger unless the options name one;
  // per request, to `request.log`, which carries the request id. Without a
  // Fastify logger both would go nowhere: then to `console`, as on Express
  // and Koa.
  const fixedLogger: ProxyLogger | undefined =
    options.logger ?? (hasNoLogger(fastify.log) ? console : undefined);
  const compiled = compileOptions({ ...options, logger: fixedLogger ?? fastify.log });

  if (fastify.hasRequestDecorator('forwarded')) {
    throw new WaitressProxyConfigError(
      'forwarded',
      `${PLUGIN_NAME} is registered twice in the same context (request.forwarded already ` +
        'exists): register it once, before the routes, with all its options.',
    );
  }

  const server = serverOptionsOf(fastify);
  checkRewriteUrl(compiled.urlPrefix, server);
  // Fastify builds its trust-proxy Request class whenever trustProxy is truthy.
  if (server !== undefined && Boolean(server.trustProxy)) {
    compiled.logger.warn(
      `waitress-proxy: Fastify's trustProxy option is set too (${describe(server.trustProxy)}); ` +
        `${PLUGIN_NAME} decides request.ip, ips, protocol, host, hostname and port, and ` +
        'trustProxy only adds work per request. Remove trustProxy from the Fastify options and ' +
        'keep trustedProxy in the plugin options.',
    );
  }

  // Declared up front so every request object gets the property in its
  // constructor (one shape), null until the hook below sets it.
  fastify.decorateRequest('forwarded', null as unknown as ProxyView);

  fastify.addHook('onRequest', function waitressProxyOnRequest(request, _reply, done) {
    const raw = request.raw;
    const result = resolve(
      compiled,
      // As received: with urlPrefix, `raw.url` was already rewritten.
      requestInput(raw, request.originalUrl),
      fixedLogger ?? request.log,
    );
    // On a malformed header too: the view is then the direct connection's and
    // every proxy header is removed, so the error handler sees nothing forged.
    applyHeaderChanges(raw, result.headerChanges);
    request.forwarded = result.view;
    followView(request);
    if (result.ok) {
      done();
    } else {
      // The core logged the header, the peer and the value; Fastify's error
      // handling answers with the error's statusCode, 400.
      done(result.error);
    }
  });
  return compiled;
}

/**
 * With `urlPrefix`, Fastify must be created with the `rewriteUrl` that
 * `waitressProxyRewriteUrl` builds from the same prefix: without it the
 * routes see the prefix and nothing matches, silently.
 */
function checkRewriteUrl(urlPrefix: string, server: ReturnType<typeof serverOptionsOf>): void {
  const stripped = prefixStrippedBy(server?.rewriteUrl);
  if (stripped === urlPrefix || (stripped === undefined && urlPrefix === '')) return;
  const setUp =
    'Create the app with Fastify({ rewriteUrl: waitressProxyRewriteUrl(options) }) and register ' +
    'the plugin with the same options.';
  if (server === undefined) {
    throw new WaitressProxyConfigError(
      'urlPrefix',
      `urlPrefix is set, but ${PLUGIN_NAME} cannot read this Fastify's server options to check ` +
        `that rewriteUrl strips it. ${setUp}`,
    );
  }
  if (stripped === undefined) {
    throw new WaitressProxyConfigError(
      'urlPrefix',
      `urlPrefix is "${urlPrefix}", but Fastify's rewriteUrl option is ${
        server.rewriteUrl === undefined ? 'not set' : 'not the one waitressProxyRewriteUrl builds'
      }, so Fastify would route paths with the prefix still in them. ${setUp}`,
    );
  }
  throw new WaitressProxyConfigError(
    'urlPrefix',
    `Fastify's rewriteUrl strips ${stripped === '' ? 'no prefix' : `"${stripped}"`}, but the ` +
      `plugin's urlPrefix is ${urlPrefix === '' ? 'not set' : `"${urlPrefix}"`}. ${setUp}`,
  );
}

function describe(value: unknown): string {
  return typeof value === 'function' ? 'a function' : JSON.stringify(value);
}

/**
 * The plugin: `await app.register(waitressProxy, options)`. Wrapped with
 * fastify-plugin, so it applies to the context it is registered in and every
 * context registered after it, not only its own.
 */
export const waitressProxy: FastifyPluginCallback<FastifyWaitressProxyOptions> = fp(plugin, {
  fastify: '5.x',
  name: PLUGIN_NAME,
});
