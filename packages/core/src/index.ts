/**
 * @waitress-proxy/core: the framework-free engine. Compile the options once
 * with `compileOptions`, then call `resolve` per request; adapters apply the
 * result with `applyHeaderChanges`.
 *
 * @packageDocumentation
 */
export { compileOptions, PROXY_HEADER_NAMES } from './options.js';
export type {
  CompiledOptions,
  ProxyHeaderName,
  SingleClientIpHeader,
  ProxyLogger,
  WaitressProxyOptions,
} from './options.js';
export { compileTrust } from './trust.js';
export type { TrustedProxy, TrustedProxySource, TrustFunction, TrustMatcher } from './trust.js';
export { trustGate, trustSourcesReady } from './gate.js';
export type { TrustGate } from './gate.js';
export { originForm, resolve, routeUrl } from './resolve.js';
export type {
  HeaderChange,
  HeaderValue,
  ProxyView,
  RequestHeaders,
  RequestInput,
  Resolution,
} from './resolve.js';
export { applyHeaderChanges } from './headers.js';
export { explain, formatExplanation } from './explain.js';
export { optionsFromEnv, optionsFromStrings } from './strings.js';
export { DIAGNOSED_COMBINATIONS } from './diagnose.js';
export type { Explanation, FieldOrigin, HeaderOutcome, HeaderStep } from './explain.js';
export { PROXY_PROTOCOL_PEER, requestInput } from './incoming.js';
export type { IncomingRequest, ProxyProtocolPeer } from './incoming.js';
export type { MutableHeaders } from './headers.js';
export {
  MalformedProxyHeaderError,
  HostNotAllowedError,
  TooManyHeadersError,
  TrustedRangesUnavailableError,
  WaitressProxyConfigError,
} from './errors.js';
export type { ProxyRequestError, WaitressProxyErrorCode } from './errors.js';
