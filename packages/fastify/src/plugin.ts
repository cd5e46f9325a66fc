/**
 * The Fastify plugin. It only translates: Fastify's request into the core's
 * input, the core's view onto Fastify's request properties, and the core's
 * malformed-header error into Fastify's error path. Every rule lives in
 * `@waitress-proxy/core`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Server } from 'node:net';
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
import type { FastifyBaseLogger, FastifyInstance, FastifyPluginCallback } from 'fastify';
import fp from 'fastify-plugin';
import type { CheckedServerOptions } from './fastify-internals.js';
import {
  isRootContext,
  requestPrototypeOf,
  serverBindingsOf,
  serverOptionsOf,
} from './fastify-internals.js';
import { PENDING_LOG, PROBLEM, VIEW } from './raw-state.js';
import type { PendingLine, RawRequestState } from './raw-state.js';
import { forwardedGetter, installGetters, ownGetters } from './request-getters.js';
import { prefixStrippedBy } from './rewrite-url.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * What the app should see behind its proxies, as `@waitress-proxy/core`
     * resolved it: client address and port, scheme, host, port, prefix and
     * path. Registered on the app itself, the plugin resolves each request
     * before Fastify routes it, so `frameworkErrors`, the 404 handler, every
     * hook and the handler read it; registered inside an encapsulated
     * context, from its `onRequest` hook on (`null` in hooks before it).
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

/** A raw request as the plugin sees it: Node's, over HTTP/1.x or HTTP/2. */
type RawRequest = (IncomingMessage | Http2ServerRequest) & RawRequestState;

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

  const prototype = requestPrototypeOf(fastify);
  if (prototype === undefined) {
    throw new WaitressProxyConfigError(
      'fastify',
      `${PLUGIN_NAME} cannot find this Fastify's Request class: it supports Fastify 5 ` +
        '(install fastify@5).',
    );
  }
  // Decorating also makes the context's routes use its own Request class,
  // where the getters can go (Fastify skips undecorated classes).
  fastify.decorateRequest('forwarded', { getter: forwardedGetter as () => ProxyView });
  const perRequest = installGetters(prototype);

  /** The raw request whose log lines the deferring logger keeps. */
  let pendingFor: RawRequest | undefined;
  const keep = (line: PendingLine): void => {
    const raw = pendingFor;
    if (raw === undefined) compiled.logger.warn(line.message);
    else (raw[PENDING_LOG] ??= []).push(line);
  };
  const deferringLogger: ProxyLogger = {
    warn(message) {
      keep({ level: 'warn', message });
    },
    debug(message) {
      keep({ level: 'debug', message });
    },
  };

  /**
   * Resolves one request, applies the header changes and stores the view
   * (and the error of a malformed header) on the raw request.
   */
  function resolveRaw(raw: RawRequest, url: string | undefined, logger: ProxyLogger): void {
    const result = resolve(compiled, requestInput(raw, url), logger);
    // On a malformed header too: the view is then the direct connection's and
    // every proxy header is removed, so the error handler sees nothing forged.
    applyHeaderChanges(raw, result.headerChanges);
    raw[VIEW] = result.view;
    if (!result.ok) raw[PROBLEM] = result.error;
  }

  // Registered on the app itself, the plugin resolves each request in a
  // listener that runs before Fastify's own on the server's 'request' event:
  // before rewriteUrl, the router, frameworkErrors (a bad URL, a parameter
  // over maxParamLength), the 404 handler and every hook. Inside an
  // encapsulated context it must leave the other contexts' requests alone,
  // so it resolves in its onRequest hook only.
  if (isRootContext(fastify)) {
    const listener = function waitressProxyRequest(
      raw: RawRequest,
      res: ServerResponse | Http2ServerResponse,
    ): void {
      if (raw[VIEW] !== undefined) return;
      if (fixedLogger !== undefined) {
        // As received: Fastify's rewriteUrl (urlPrefix) has not run yet.
        resolveRaw(raw, raw.url, fixedLogger);
        return;
      }
      // request.log does not exist yet: what the core logs waits for the
      // hook, which writes it with the request id; for a request no hook
      // sees (frameworkErrors), it goes to the app's logger when it ends.
      pendingFor = raw;
      try {
        resolveRaw(raw, raw.url, deferringLogger);
      } finally {
        pendingFor = undefined;
      }
      if (raw[PENDING_LOG] !== undefined) {
        res.once('close', () => {
          writePending(raw, fastify.log);
        });
      }
    };
    const attached = new WeakSet<Server>();
    const attach = (target: Server): void => {
      if (attached.has(target)) return;
      attached.add(target);
      target.prependListener('request', listener);
    };
    attach(fastify.server);
    if (server !== undefined) wrapFrameworkErrors(server);
    // listen() on 'localhost' opens a server per address; they exist once
    // it has bound them, before the onListen hooks run. A request that comes
    // to one of them before is resolved by the hook, as with app.inject(),
    // which calls Fastify's handler without a server.
    fastify.addHook('onListen', function waitressProxyOnListen(done) {
      for (const binding of serverBindingsOf(fastify)) attach(binding);
      done();
    });
  }

  fastify.addHook('onRequest', function waitressProxyOnRequest(request, _reply, done) {
    const raw = request.raw as RawRequest;
    if (raw[VIEW] === undefined) {
      // As received, before Fastify's rewriteUrl (urlPrefix).
      resolveRaw(raw, request.originalUrl, fixedLogger ?? request.log);
    } else if (raw[PENDING_LOG] !== undefined) {
      writePending(raw, request.log);
    }
    if (perRequest !== null) Object.defineProperties(request, perRequest);
    const problem = raw[PROBLEM];
    if (problem === undefined) {
      done();
    } else {
      // The core logged the header, the peer and the value; Fastify's error
      // handling answers with the error's statusCode, 400.
      done(problem);
    }
  });
  return compiled;
}

/**
 * Fastify hands `frameworkErrors` a request of its base Request class, whose
 * prototype holds its own getters non-configurably: the plugin's cannot go
 * there. So the user's function is wrapped (Fastify reads the option each
 * time it calls it) to give that request the plugin's getters first; it runs
 * only for those errors.
 */
function wrapFrameworkErrors(server: CheckedServerOptions): void {
  const original = server.frameworkErrors;
  if (typeof original !== 'function') return;
  const own = ownGetters();
  server.frameworkErrors = function waitressProxyFrameworkErrors(
    this: unknown,
    error: unknown,
    request: object,
    reply: unknown,
  ): unknown {
    Object.defineProperties(request, own);
    return (original as (...args: unknown[]) => unknown).call(this, error, request, reply);
  };
}

/** Writes what the core logged for `raw` in the listener, once. */
function writePending(raw: RawRequestState, log: FastifyBaseLogger): void {
  const lines = raw[PENDING_LOG];
  if (lines === undefined) return;
  raw[PENDING_LOG] = undefined;
  for (const line of lines) {
    if (line.level === 'debug') log.debug(line.message);
    else log.warn(line.message);
  }
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
