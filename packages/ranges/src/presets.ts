/**
 * The public constructors: the three CDN presets, each reading its
 * provider's own published list in its real format, and `fromUrl` and
 * `fromFile` for any other list. Options are checked once, here; a bad one
 * throws at start-up with a message that says what to write.
 */
import { WaitressProxyConfigError } from '@waitress-proxy/core';
import type { RangeLimits } from './cidr.js';
import { RangeLoadError, excerpt } from './errors.js';
import { parseAwsIpRanges, parseFastlyIpList, parseLines } from './formats.js';
import type { ListFormat } from './formats.js';
import { checkListUrl, nodeFetch, readFileBounded, readUrl } from './read.js';
import type { FetchFunction, ReadLimits } from './read.js';
import { createSource } from './source.js';
import type { RangeSource, RangesLogger } from './source.js';

/** Options every source takes. */
export interface SourceOptions {
  /**
   * ms between the end of one load and the start of the next. Default one
   * hour (3 600 000). Any positive number (tests use a fraction of a
   * second); `Infinity` loads once and never refreshes.
   */
  refreshInterval?: number;
  /** Aborting it stops the refreshes (and a load under way). */
  signal?: AbortSignal;
  /** Where a failed refresh or first load is reported. Default `console`. */
  logger?: RangesLogger;
  /**
   * The widest range accepted, as a prefix length. Default `{ ipv4: 8,
   * ipv6: 32 }`, except where a preset's provider publishes wider ranges
   * (Cloudflare: IPv6 /29, CloudFront: IPv6 /28). A list holding a wider
   * range (`0.0.0.0/0`, `::/0`) is refused whole.
   */
  widestPrefix?: {
    /** The widest IPv4 prefix length accepted (0 to 32). */
    ipv4?: number;
    /** The widest IPv6 prefix length accepted (0 to 128). */
    ipv6?: number;
  };
  /**
   * Refuse a list with a range in loopback, private, link-local,
   * documentation or other special-purpose space (`127.0.0.0/8`,
   * `10.0.0.0/8`, `fc00::/7`, `2002::/16`, ...: IANA's IPv4 and IPv6
   * special-purpose registries). Default true for the CDN presets, whose
   * egress is public; false for `fromUrl` and `fromFile`, whose list may name
   * your own private load balancers.
   */
  publicOnly?: boolean;
  /**
   * The most entries a list may hold, duplicates counted; a longer list is
   * refused whole, before the rest is parsed. Default 10 000.
   */
  maxRanges?: number;
  /**
   * The most bytes read from a list; a larger body is refused. Default
   * 64 KiB for `cloudflare()` and `fastly()` (their lists are a few hundred
   * bytes and a few KB), 8 MiB for `cloudfront()` (AWS's `ip-ranges.json`
   * lists every AWS service: 1-2 MB, not measured here), 1 MiB for `fromUrl()` and
   * `fromFile()`.
   */
  maxBytes?: number;
  /** ms before a load (connection, answer and body; or reading the file) is abandoned. Default 10 000. */
  timeout?: number;
}

/** Options of the sources read over HTTPS. */
export interface UrlSourceOptions extends SourceOptions {
  /**
   * The `fetch` to call. Default: a GET through node:http(s), whose socket
   * is `unref()`'d during a refresh, so a refresh in flight never keeps the
   * process alive (the global `fetch` would, until `timeout`); the first
   * load keeps it alive, for a script awaiting `ready()`. Called with
   * `redirect: 'manual'` and an abort signal.
   */
  fetch?: FetchFunction;
}

/** `cloudflare()`'s options. */
export interface CloudflareOptions extends UrlSourceOptions {
  /**
   * The lists to read and merge, one range a line. Default
   * `['https://www.cloudflare.com/ips-v4', 'https://www.cloudflare.com/ips-v6']`.
   */
  urls?: readonly string[];
}

/** `cloudfront()`'s options. */
export interface CloudFrontOptions extends UrlSourceOptions {
  /** AWS's `ip-ranges.json`. Default `https://ip-ranges.amazonaws.com/ip-ranges.json`. */
  url?: string;
  /**
   * The `service` whose prefixes are read. Default `'CLOUDFRONT'` (every
   * CloudFront address); `'CLOUDFRONT_ORIGIN_FACING'` is the narrower set
   * CloudFront connects to origins from.
   */
  service?: string;
}

/** `fastly()`'s options. */
export interface FastlyOptions extends UrlSourceOptions {
  /** Fastly's public IP list. Default `https://api.fastly.com/public-ip-list`. */
  url?: string;
}

/** `fromUrl()`'s options. */
export interface FromUrlOptions extends UrlSourceOptions {
  /** How the body becomes ranges: `'lines'` or a function (see {@link ListFormat}). */
  format: ListFormat;
}

/** `fromFile()`'s options. */
export interface FromFileOptions extends SourceOptions {
  /** How the file becomes ranges: `'lines'` or a function (see {@link ListFormat}). */
  format: ListFormat;
}

/** Cloudflare's published lists (https://www.cloudflare.com/ips/). */
export const CLOUDFLARE_URLS: readonly string[] = [
  'https://www.cloudflare.com/ips-v4',
  'https://www.cloudflare.com/ips-v6',
];
/** AWS's published ranges (https://docs.aws.amazon.com/vpc/latest/userguide/aws-ip-ranges.html). */
export const AWS_IP_RANGES_URL = 'https://ip-ranges.amazonaws.com/ip-ranges.json';
/** Fastly's published ranges (https://www.fastly.com/documentation/reference/api/utils/public-ip-list/). */
export const FASTLY_IP_LIST_URL = 'https://api.fastly.com/public-ip-list';

const HOUR = 60 * 60 * 1000;
/** The longest delay setTimeout honours (about 24.8 days). */
const MAX_TIMER = 2 ** 31 - 1;

const DEFAULTS = {
  refreshInterval: HOUR,
  timeout: 10_000,
  maxRanges: 10_000,
} as const;

/** A source's defaults for the widest ranges and the largest body. */
interface DefaultLimits {
  readonly ipv4: number;
  readonly ipv6: number;
  readonly maxBytes: number;
  readonly publicOnly: boolean;
}

const LIMITS: DefaultLimits = { ipv4: 8, ipv6: 32, maxBytes: 1024 * 1024, publicOnly: false };
/** A CDN's egress: public address space only, and lists of a few KB. */
const CDN_LIMITS: DefaultLimits = { ...LIMITS, maxBytes: 64 * 1024, publicOnly: true };

const COMMON_KEYS = [
  'refreshInterval',
  'signal',
  'logger',
  'widestPrefix',
  'maxRanges',
  'maxBytes',
  'publicOnly',
  'timeout',
];
const URL_KEYS = [...COMMON_KEYS, 'fetch'];

/**
 * Cloudflare's egress ranges, from `https://www.cloudflare.com/ips-v4` and
 * `https://www.cloudflare.com/ips-v6` (one CIDR range a line), refreshed
 * every hour. Use with `trustedProxyHeaders: 'cf-connecting-ip'`.
 *
 * @example
 * ```ts
 * app.use(waitressProxy({ trustedProxy: cloudflare(), trustedProxyHeaders: 'cf-connecting-ip' }));
 * ```
 */
export function cloudflare(options: CloudflareOptions = {}): RangeSource {
  checkKeys('cloudflare()', options, [...URL_KEYS, 'urls'], { url: 'urls' });
  const urls = options.urls ?? CLOUDFLARE_URLS;
  if (!Array.isArray(urls) || urls.length === 0) {
    throw configError(
      'cloudflare()',
      'urls',
      `urls must be a non-empty array of URLs, such as ['https://www.cloudflare.com/ips-v4', 'https://www.cloudflare.com/ips-v6'].`,
    );
  }
  const checked = urls.map((url: unknown) => urlOption('cloudflare()', 'urls', url));
  // Cloudflare's own two lists: one IPv4, one IPv6, both required.
  const both = options.urls === undefined;
  return urlSource('cloudflare()', checked, options, { ...CDN_LIMITS, ipv6: 29 }, parseLines, both);
}

/**
 * Amazon CloudFront's ranges, from AWS's `ip-ranges.json` (the `prefixes`
 * and `ipv6_prefixes` entries whose `service` is `CLOUDFRONT`), refreshed
 * every hour. CloudFront sends the client address in `X-Forwarded-For`, or
 * in `CloudFront-Viewer-Address` when configured.
 */
export function cloudfront(options: CloudFrontOptions = {}): RangeSource {
  checkKeys('cloudfront()', options, [...URL_KEYS, 'url', 'service'], { urls: 'url' });
  const url = urlOption('cloudfront()', 'url', options.url ?? AWS_IP_RANGES_URL);
  const service = options.service ?? 'CLOUDFRONT';
  if (typeof service !== 'string' || service === '') {
    throw configError(
      'cloudfront()',
      'service',
      `service must be a service name of ip-ranges.json, such as 'CLOUDFRONT' or 'CLOUDFRONT_ORIGIN_FACING'.`,
    );
  }
  return urlSource(
    'cloudfront()',
    [url],
    options,
    { ...CDN_LIMITS, ipv6: 28, maxBytes: 8 * 1024 * 1024 },
    (body) => parseAwsIpRanges(body, service),
    // CLOUDFRONT has IPv4 and IPv6 prefixes; CLOUDFRONT_ORIGIN_FACING only IPv4.
    service === 'CLOUDFRONT',
  );
}

/**
 * Fastly's ranges, from `https://api.fastly.com/public-ip-list` (`addresses`
 * and `ipv6_addresses`), refreshed every hour. Use with
 * `trustedProxyHeaders: 'fastly-client-ip'`.
 */
export function fastly(options: FastlyOptions = {}): RangeSource {
  checkKeys('fastly()', options, [...URL_KEYS, 'url'], { urls: 'url' });
  const url = urlOption('fastly()', 'url', options.url ?? FASTLY_IP_LIST_URL);
  return urlSource('fastly()', [url], options, CDN_LIMITS, parseFastlyIpList, true);
}

/**
 * Any published list at an `https:` URL (`http:` on loopback only), read
 * in `format` and refreshed every hour.
 *
 * @example
 * ```ts
 * fromUrl('https://lb.example/egress.txt', { format: 'lines' });
 * fromUrl('https://lb.example/egress.json', { format: (body) => JSON.parse(body).cidrs });
 * ```
 */
export function fromUrl(url: string, options: FromUrlOptions): RangeSource {
  checkKeys('fromUrl()', options, [...URL_KEYS, 'format'], {});
  const checked = urlOption('fromUrl()', 'url', url);
  const parse = formatOption('fromUrl()', options.format);
  return urlSource('fromUrl()', [checked], options, LIMITS, parse, false, false);
}

/**
 * A list in a file, read in `format` now and again every hour (a file a
 * deployment tool rewrites). Reading it fails the same ways a download
 * does: a missing, empty, oversized or malformed file keeps the last good
 * list.
 */
export function fromFile(path: string, options: FromFileOptions): RangeSource {
  checkKeys('fromFile()', options, [...COMMON_KEYS, 'format'], {});
  if (typeof path !== 'string' || path === '') {
    throw configError('fromFile()', 'path', `the path must be a non-empty string.`);
  }
  const parse = formatOption('fromFile()', options.format);
  const common = commonOptions('fromFile()', options, LIMITS);
  const limits: ReadLimits = {
    timeout: positiveMs('fromFile()', 'timeout', options.timeout, DEFAULTS.timeout),
    maxBytes: common.maxBytes,
  };
  return createSource({
    name: `fromFile(${path})`,
    load: async (signal) => parse(await readFileBounded(path, limits, signal)),
    limits: common.limits,
    refreshInterval: common.refreshInterval,
    logger: common.logger,
    signal: options.signal,
  });
}

function urlSource(
  preset: string,
  urls: readonly string[],
  options: UrlSourceOptions,
  widest: DefaultLimits,
  parse: (body: string) => Iterable<unknown>,
  bothFamilies: boolean,
  cdn = true,
): RangeSource {
  const common = commonOptions(preset, options, widest);
  const candidate: unknown = options.fetch ?? nodeFetch(false);
  if (typeof candidate !== 'function') {
    throw configError(
      preset,
      'fetch',
      `fetch must be a function (url, init) => Promise<Response>.`,
    );
  }
  const fetchFirst = candidate as FetchFunction;
  const fetchRefresh = options.fetch ?? nodeFetch(true);
  const limits: ReadLimits = {
    timeout: positiveMs(preset, 'timeout', options.timeout, DEFAULTS.timeout),
    maxBytes: common.maxBytes,
  };
  return createSource({
    name: `${preset.slice(0, -1)}${urls.join(' ')})`,
    // Every list of a source is read before any is used: one failure
    // fails the load, and the last good merged list stays.
    load: async (signal, refresh) => {
      const fetchList = refresh ? fetchRefresh : fetchFirst;
      const bodies = await readAll(urls, fetchList, limits, signal);
      return bodies.flatMap((body, index) => {
        const entries = [...parse(body)];
        // Each list of a multi-list source holds part of the ranges: an
        // empty one (a 200 with no body) would silently drop them all.
        if (urls.length > 1 && entries.length === 0) {
          throw new RangeLoadError(
            'WAITRESS_PROXY_RANGES_REFUSED',
            `${preset.slice(0, -1)}${urls.join(' ')}): ${urls[index]} holds no range; the whole list is refused.`,
          );
        }
        return entries;
      });
    },
    limits: { ...common.limits, requirePrefix: cdn, bothFamilies },
    refreshInterval: common.refreshInterval,
    logger: common.logger,
    signal: options.signal,
  });
}

/**
 * Reads every URL under one AbortController: when one read fails, the
 * others are aborted and awaited, so no GET outlives its load and loads
 * never overlap.
 */
async function readAll(
  urls: readonly string[],
  fetchList: FetchFunction,
  limits: ReadLimits,
  signal: AbortSignal | undefined,
): Promise<string[]> {
  const controller = new AbortController();
  const onAbort = () => {
    controller.abort(signal?.reason);
  };
  if (signal?.aborted === true) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  let failure: { error: unknown } | undefined;
  try {
    const results = await Promise.allSettled(
      urls.map((url) =>
        readUrl(url, fetchList, limits, controller.signal).catch((error: unknown) => {
          failure ??= { error };
          controller.abort(error);
          throw error;
        }),
      ),
    );
    if (failure !== undefined) throw failure.error;
    return results.map((result) => (result as PromiseFulfilledResult<string>).value);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

function commonOptions(
  preset: string,
  options: SourceOptions,
  widest: DefaultLimits,
): { limits: RangeLimits; refreshInterval: number; logger: RangesLogger; maxBytes: number } {
  const refreshInterval =
    options.refreshInterval === Infinity
      ? Infinity
      : positiveMs(preset, 'refreshInterval', options.refreshInterval, DEFAULTS.refreshInterval);
  const logger = options.logger ?? console;
  if (typeof (logger as { warn?: unknown }).warn !== 'function') {
    throw configError(
      preset,
      'logger',
      `logger must be an object with a warn(message) method, such as console or a pino logger.`,
    );
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw configError(preset, 'signal', `signal must be an AbortSignal (controller.signal).`);
  }
  const prefix = options.widestPrefix ?? {};
  return {
    limits: {
      ipv4: prefixLength(preset, 'widestPrefix.ipv4', prefix.ipv4, widest.ipv4, 32),
      ipv6: prefixLength(preset, 'widestPrefix.ipv6', prefix.ipv6, widest.ipv6, 128),
      maxRanges: positiveInteger(preset, 'maxRanges', options.maxRanges, DEFAULTS.maxRanges),
      publicOnly: booleanOption(preset, 'publicOnly', options.publicOnly, widest.publicOnly),
    },
    refreshInterval,
    logger,
    maxBytes: positiveInteger(preset, 'maxBytes', options.maxBytes, widest.maxBytes),
  };
}

function checkKeys(
  preset: string,
  options: object,
  known: readonly string[],
  suggestions: Readonly<Record<string, string>>,
): void {
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw configError(preset, 'options', `the options must be an object.`);
  }
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const hint = suggestions[key] ?? known.find((name) => name.toLowerCase() === key.toLowerCase());
    throw configError(
      preset,
      key,
      `received an unsupported option, \`${key}\`.${hint === undefined ? ` Known options: ${known.join(', ')}.` : ` Did you mean \`${hint}\`?`}`,
    );
  }
}

function urlOption(preset: string, option: string, url: unknown): string {
  if (typeof url !== 'string') {
    throw configError(preset, option, `${option} must be a URL string.`);
  }
  try {
    return checkListUrl(url, `${preset} ${option}`).href;
  } catch (error) {
    throw configError(preset, option, (error as Error).message);
  }
}

function formatOption(preset: string, format: unknown): (body: string) => Iterable<unknown> {
  if (format === 'lines') return parseLines;
  if (typeof format === 'function') return format as (body: string) => Iterable<unknown>;
  throw configError(
    preset,
    'format',
    `format must be 'lines' or a function (body) => ranges, received ${
      typeof format === 'string' ? excerpt(format) : typeof format
    }.`,
  );
}

function positiveMs(preset: string, option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMER) {
    throw configError(
      preset,
      option,
      `${option} must be a positive number of milliseconds up to ${MAX_TIMER}` +
        `${option === 'refreshInterval' ? ' (or Infinity: never refresh)' : ''}, such as ${fallback}.`,
    );
  }
  return value;
}

function positiveInteger(preset: string, option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw configError(preset, option, `${option} must be a positive integer, such as ${fallback}.`);
  }
  return value;
}

function booleanOption(preset: string, option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw configError(
      preset,
      option,
      `${option} must be true or false, such as ${String(fallback)}.`,
    );
  }
  return value;
}

function prefixLength(
  preset: string,
  option: string,
  value: unknown,
  fallback: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw configError(
      preset,
      option,
      `${option} must be a prefix length from 1 to ${max}, such as ${fallback} (a /0 is never accepted).`,
    );
  }
  return value;
}

function configError(preset: string, option: string, message: string): WaitressProxyConfigError {
  return new WaitressProxyConfigError(option, `${preset}: ${message}`);
}
