/**
 * @waitress-proxy/proxy-protocol: a strict PROXY protocol v1/v2 reader for
 * Node `http`, `https` and `http2` servers. The client address a load
 * balancer's PROXY header relays becomes the peer waitress-proxy sees.
 *
 * @packageDocumentation
 */
export { acceptProxyProtocol } from './accept.js';
export { DEFAULT_TIMEOUT } from './options.js';
export type { ProxyProtocolOptions } from './options.js';
export { MAX_V1_LENGTH, MAX_V2_LENGTH } from './header.js';
export { PROXY_PROTOCOL_PEER } from '@waitress-proxy/core';
export type { ProxyProtocolPeer } from '@waitress-proxy/core';
