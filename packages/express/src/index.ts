/**
 * @waitress-proxy/express: Express 4 and 5 middleware that makes the request
 * look the way the client sent it, behind trusted reverse proxies, following
 * waitress's trusted-proxy model. The options are `@waitress-proxy/core`'s.
 *
 * @packageDocumentation
 */
import { waitressProxy } from './middleware.js';

export { waitressProxy };
export default waitressProxy;
export type { WaitressProxyMiddleware } from './middleware.js';
export {
  HostNotAllowedError,
  MalformedProxyHeaderError,
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
