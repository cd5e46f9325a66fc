/**
 * `@waitress-proxy/core/internal`: what the adapters share that is not the
 * engine, and not public API. It may change with any release; apps import
 * `@waitress-proxy/core`, never this.
 */
export { requestGetters, sharedState } from './internal-getters.js';
export type { RequestGetter, RequestGetters } from './internal-getters.js';
export { parseIPv4, parseIPv6, peerAddressOf } from './address.js';
export { UNIX_SOCKET_PEER } from './trust.js';
