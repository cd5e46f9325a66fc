/**
 * @waitress-proxy/ranges: trusted proxy ranges that stay current. Each
 * constructor returns a `TrustedProxySource` for waitress-proxy's
 * `trustedProxy`, alone or beside fixed entries
 * (`trustedProxy: ['loopback', cloudflare()]`).
 *
 * @packageDocumentation
 */
export {
  AWS_IP_RANGES_URL,
  CLOUDFLARE_URLS,
  FASTLY_IP_LIST_URL,
  cloudflare,
  cloudfront,
  fastly,
  fromFile,
  fromUrl,
} from './presets.js';
export type {
  CloudflareOptions,
  CloudFrontOptions,
  FastlyOptions,
  FromFileOptions,
  FromUrlOptions,
  SourceOptions,
  UrlSourceOptions,
} from './presets.js';
export type { ListFormat } from './formats.js';
export type { FetchFunction } from './read.js';
export type { RangeSource, RangesLogger } from './source.js';
export { RangeLoadError } from './errors.js';
export type { RangeLoadErrorCode } from './errors.js';
