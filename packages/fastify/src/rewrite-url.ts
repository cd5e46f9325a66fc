/**
 * `urlPrefix` for Fastify. Fastify matches the route before the first hook
 * runs, so a plugin cannot strip the prefix in time: the app's `rewriteUrl`
 * server option must. This builds that function from the plugin's options,
 * and remembers which prefix each one strips, so the plugin can refuse to
 * start when the two disagree.
 */
import { compileOptions, routeUrl } from '@waitress-proxy/core';
import type { CompiledOptions, ProxyLogger, WaitressProxyOptions } from '@waitress-proxy/core';

/**
 * Fastify's `rewriteUrl` server option, for every server Fastify makes: it
 * reads only `req.url`, so it fits an HTTP/1.1 `IncomingMessage` and an
 * HTTP/2 `Http2ServerRequest` (`Fastify({ http2: true })`) alike.
 */
export type WaitressProxyRewriteUrl = (req: { readonly url?: string | undefined }) => string;

/** Every rewrite this module built, with the normalized prefix it strips. */
const prefixes = new WeakMap<object, string>();

/** The prefix `rewriteUrl` strips, if `waitressProxyRewriteUrl` built it. */
export function prefixStrippedBy(rewriteUrl: unknown): string | undefined {
  return typeof rewriteUrl === 'function' ? prefixes.get(rewriteUrl) : undefined;
}

const SILENT: ProxyLogger = { warn() {} };

/**
 * Builds Fastify's `rewriteUrl` server option from the plugin's options:
 * it strips `urlPrefix` from request paths equal to it or below it (waitress's
 * `url_prefix`: `/app` and `/app/x` become `/` and `/x`; `/application` and
 * `/other` stay as they are) before Fastify routes. Fastify keeps the URL as
 * received in `request.originalUrl`.
 *
 * ```ts
 * const options = { trustedProxy: '10.0.0.5', urlPrefix: '/app' };
 * const app = Fastify({ rewriteUrl: waitressProxyRewriteUrl(options) });
 * await app.register(waitressProxy, options);
 * ```
 *
 * Only `urlPrefix` is read here; the plugin validates the other options.
 * Throws `WaitressProxyConfigError` for an invalid `urlPrefix`.
 */
export function waitressProxyRewriteUrl(
  options: WaitressProxyOptions = {},
): WaitressProxyRewriteUrl {
  // Only the prefix is compiled here; the core's routeUrl strips it the way
  // every adapter does.
  const compiled: CompiledOptions = compileOptions({
    urlPrefix: options.urlPrefix,
    clearUntrustedProxyHeaders: false,
    logger: SILENT,
  });
  const rewriteUrl: WaitressProxyRewriteUrl = (req) => {
    const url = req.url ?? '/';
    return compiled.urlPrefix === '' ? url : routeUrl(compiled, url);
  };
  prefixes.set(rewriteUrl, compiled.urlPrefix);
  return rewriteUrl;
}
