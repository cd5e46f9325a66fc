/**
 * @waitress-proxy/fastify: a Fastify 5 plugin that makes the request look the
 * way the client sent it, behind trusted reverse proxies, following waitress's
 * trusted-proxy model. The options are `@waitress-proxy/core`'s.
 *
 * CommonJS gets the plugin itself as `module.exports`, with these exports as
 * its properties (tsup.config.ts), as Fastify's own plugins do.
 *
 * @packageDocumentation
 */
import { waitressProxy } from './plugin.js';

export { waitressProxy };
export default waitressProxy;
export type { FastifyWaitressProxyOptions } from './plugin.js';
export { waitressProxyRewriteUrl } from './rewrite-url.js';
export type { WaitressProxyRewriteUrl } from './rewrite-url.js';
export {
  HostNotAllowedError,
  MalformedProxyHeaderError,
  MalformedRequestTargetError,
  TooManyHeadersError,
  TrustedRangesUnavailableError,
  WaitressProxyConfigError,
} from '@waitress-proxy/core';
export type {
  ProxyLogger,
  ProxyView,
  TrustedProxy,
  TrustedProxySource,
  WaitressProxyOptions,
} from '@waitress-proxy/core';
