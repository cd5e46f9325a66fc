/**
 * The options, waitress's names in camelCase, validated and normalized once.
 *
 * | waitress                          | here                          |
 * | --------------------------------- | ----------------------------- |
 * | `trusted_proxy`                   | `trustedProxy`                |
 * | `trusted_proxy_count`             | `trustedProxyCount`           |
 * | `trusted_proxy_headers`           | `trustedProxyHeaders`         |
 * | `clear_untrusted_proxy_headers`   | `clearUntrustedProxyHeaders`  |
 * | `log_untrusted_proxy_headers`     | `logUntrustedProxyHeaders`    |
 * | `url_scheme`                      | `urlScheme`                   |
 * | `url_prefix`                      | `urlPrefix`                   |
 * | (the `waitress` logger)           | `logger`                      |
 * | (none)                            | `requireTrustedHops`          |
 */
import { WaitressProxyConfigError } from './errors.js';
import { compileTrust, describe, splitList, trustSourcesIn } from './trust.js';
import type { TrustedProxy, TrustedProxySource, TrustMatcher } from './trust.js';
import type { Explanation } from './explain.js';
import { compileAllowedHosts } from './allowed-hosts.js';
import type { HostMatcher } from './allowed-hosts.js';

/** Where warnings go: `console`, pino, winston and Fastify's `request.log` all fit. */
export interface ProxyLogger {
  /**
   * Warnings: at start-up (a default that trusts less than you may think), and
   * per request for a refused request (a malformed header from a trusted proxy,
   * with its peer and value; a host not allowed; too many header lines), for
   * removed headers with `logUntrustedProxyHeaders`, and from `diagnose`.
   */
  warn(message: string): void;
  /** Where the `explain` option writes, when the logger has it; else `warn`. */
  debug?(message: string): void;
}

/** A proxy header the engine can be told to trust (lower case). */
export type ProxyHeaderName =
  | 'x-forwarded-for'
  | 'x-forwarded-host'
  | 'x-forwarded-proto'
  | 'x-forwarded-port'
  | 'x-forwarded-by'
  | 'forwarded'
  | 'x-forwarded-prefix'
  | SingleClientIpHeader;

/**
 * A header that carries the client's address alone, set or overwritten by a
 * CDN or a proxy: nginx's `X-Real-IP`, Cloudflare's `CF-Connecting-IP`,
 * Akamai's and Cloudflare's `True-Client-IP`, Fastly's `Fastly-Client-IP`.
 * waitress does not know them.
 */
export type SingleClientIpHeader =
  'x-real-ip' | 'cf-connecting-ip' | 'true-client-ip' | 'fastly-client-ip';

/** The options, shared unchanged by every adapter. */
export interface WaitressProxyOptions {
  /**
   * Which peers are trusted proxies; their proxy headers are used. Without
   * it no peer is trusted and every proxy header is ignored (and removed,
   * see `clearUntrustedProxyHeaders`). See {@link TrustedProxy} for the forms.
   * waitress: `trusted_proxy`. Default: none.
   */
  trustedProxy?: TrustedProxy | undefined;
  /**
   * How many proxies to trust in a chain: the trusted window is the last
   * `trustedProxyCount` entries of `X-Forwarded-For`, `X-Forwarded-Host` and
   * `Forwarded`, and the oldest entry inside it is the client. A positive
   * integer or `Infinity`. waitress: `trusted_proxy_count`. Default: 1.
   */
  trustedProxyCount?: number | undefined;
  /**
   * Which proxy headers a trusted proxy may set: any of `x-forwarded-for`,
   * `x-forwarded-host`, `x-forwarded-proto`, `x-forwarded-port`,
   * `x-forwarded-by`, or `forwarded` alone (RFC 7239; it cannot be mixed
   * with the others). Beyond waitress, `x-forwarded-prefix` (with either):
   * the path prefix the proxy stripped, which becomes the view's `prefix`. Beyond waitress, the client address may come instead
   * from one header that carries it alone: `x-real-ip`, `cf-connecting-ip`,
   * `true-client-ip` or `fastly-client-ip` (with `x-forwarded-proto`,
   * `-host` and `-port` if wanted). Exactly one source of the client
   * address: trusting two of `x-forwarded-for`, `forwarded` and those four
   * throws, since a client could choose which one the app reads. An array,
   * or one string separated by spaces or commas; case-insensitive. With
   * `trustedProxy` but without this option only `x-forwarded-proto` is
   * trusted, with a warning, as in waitress. waitress: `trusted_proxy_headers`.
   */
  trustedProxyHeaders?: string | readonly string[] | undefined;
  /**
   * Remove the proxy headers that were not used (from untrusted peers, or
   * not in `trustedProxyHeaders`), so no code downstream can read a forged
   * one. waitress: `clear_untrusted_proxy_headers`. Default: true.
   */
  clearUntrustedProxyHeaders?: boolean | undefined;
  /**
   * Warn through `logger` each time untrusted proxy headers are removed.
   * waitress: `log_untrusted_proxy_headers`. Default: false.
   */
  logUntrustedProxyHeaders?: boolean | undefined;
  /**
   * The scheme when no trusted header gives one: `'http'` or `'https'`.
   * waitress: `url_scheme`. Default: `'https'` on a TLS socket, else `'http'`.
   */
  urlScheme?: 'http' | 'https' | undefined;
  /**
   * A path prefix the app is served under (waitress: `url_prefix`). It is
   * normalized to one leading slash and no trailing slash, becomes the view's
   * `prefix` (SCRIPT_NAME), and is stripped from request paths equal to it or
   * starting with it and a slash. Default: none.
   */
  urlPrefix?: string | undefined;
  /**
   * Beyond waitress: each hop counted by `trustedProxyCount` must itself
   * match `trustedProxy`. Walking the chain from the newest entry, the first
   * address that is not a trusted proxy is the client, even inside the
   * window. With `trustedProxyCount: Infinity` this is Express's
   * `trust proxy` with a list. Default: false.
   */
  requireTrustedHops?: boolean | undefined;
  /**
   * Beyond waitress: the hosts the app serves. The effective host (the
   * trusted forwarded host, else `Host`, else HTTP/2 `:authority`) must match
   * one, else the request is a 400 (`HostNotAllowedError`), as Django's
   * `ALLOWED_HOSTS` and ASP.NET Core's `AllowedHosts`. Patterns: an exact
   * name (case-insensitive, a trailing dot ignored); `.example.com` (the
   * domain and its subdomains); `*.example.com` (subdomains only); an IPv4
   * address; a bracketed IPv6 address; each with an optional `:port`
   * (without one, any port); `*` (any host). A request with no host is
   * refused. Default: none (every host).
   */
  allowedHosts?: string | readonly string[] | undefined;
  /**
   * Beyond waitress: explain every request. `true` logs the formatted
   * explanation (`formatExplanation`) through the logger's `debug` (its
   * `warn` if it has none; Fastify's `request.log.debug`); a function
   * receives the explanation instead. For diagnosis: each request then costs
   * an explanation. Default: false (free).
   */
  explain?: boolean | ((explanation: Explanation) => void) | undefined;
  /**
   * Beyond waitress: warn, once for each distinct peer and set of proxy
   * headers (at most 100, then silent), when the traffic and the
   * configuration disagree: an untrusted loopback, private or Unix-socket
   * peer that sends proxy headers; a trusted proxy that does not send a
   * header listed in `trustedProxyHeaders`, or sends one that is not;
   * an `X-Forwarded-For` with fewer entries than `trustedProxyCount`. Each
   * warning says what to change. Default: false.
   */
  diagnose?: boolean | undefined;
  /** Where warnings go. Default: `console`. */
  logger?: ProxyLogger | undefined;
}

/** The options after validation; build it with `compileOptions`. */
export interface CompiledOptions {
  /** The trust matcher, or undefined when no proxy is trusted. */
  readonly trust: TrustMatcher | undefined;
  /** The range sources in `trustedProxy` (see `trustGate`); empty for fixed entries. */
  readonly trustSources: readonly TrustedProxySource[];
  /** `trustedProxyCount`: a positive integer or `Infinity`; 1 by default. */
  readonly trustedProxyCount: number;
  /** `trustedProxyHeaders`, lower case; `x-forwarded-proto` alone by default. */
  readonly trustedHeaders: ReadonlySet<ProxyHeaderName>;
  /** `clearUntrustedProxyHeaders`; true by default. */
  readonly clearUntrustedProxyHeaders: boolean;
  /** `logUntrustedProxyHeaders`; false by default. */
  readonly logUntrustedProxyHeaders: boolean;
  /** `urlScheme`; undefined: `https` on TLS, else `http`. */
  readonly urlScheme: 'http' | 'https' | undefined;
  /** Normalized: `''` or one leading slash and no trailing slash. */
  readonly urlPrefix: string;
  /** `requireTrustedHops`; false by default. */
  readonly requireTrustedHops: boolean;
  /** The compiled `allowedHosts`, or undefined (every host). */
  readonly allowedHosts: HostMatcher | undefined;
  /** `true`, a function, or false (off). */
  readonly explain: boolean | ((explanation: Explanation) => void);
  /** `diagnose`; false by default. */
  readonly diagnose: boolean;
  /** `logger`; `console` by default. */
  readonly logger: ProxyLogger;
}

/**
 * What `resolve` reads off the options on every request, worked out once:
 * which headers to read, and which to look for to remove, as plain fields
 * and lists instead of set lookups.
 */
export interface ResolvePlan {
  readonly forwarded: boolean;
  readonly forwardedFor: boolean;
  readonly forwardedHost: boolean;
  readonly forwardedProto: boolean;
  readonly forwardedPort: boolean;
  readonly forwardedPrefix: boolean;
  /** The single client-IP header trusted (`cf-connecting-ip`...), if one is. */
  readonly clientIpHeader: SingleClientIpHeader | undefined;
  /** Whether `explain` or `diagnose` is on: each request then goes through `explain`. */
  readonly observed: boolean;
  /** The trust matcher each hop must pass (`requireTrustedHops`), or undefined. */
  readonly hopTrust: TrustMatcher | undefined;
  /**
   * The proxy headers to remove when the peer is trusted, those not trusted:
   * bit i stands for `PROXY_HEADER_NAMES[i]`.
   */
  readonly untrustedHeaders: number;
}

/** Where `compileOptions` keeps `trustedProxy` as given, for `explain`; private to the core. */
const TRUSTED_PROXY_OPTION = Symbol('waitress-proxy trustedProxy as given');

/** `trustedProxy` as the user gave it (undefined for options made by hand). */
export function trustedProxyOf(options: CompiledOptions): unknown {
  return (options as { [TRUSTED_PROXY_OPTION]?: unknown })[TRUSTED_PROXY_OPTION];
}

/** Where `compileOptions` keeps the plan; private to the core. */
export const RESOLVE_PLAN = Symbol('waitress-proxy resolve plan');

/** The plan for `options`, built by `compileOptions` or, for options made by hand, here. */
export function planOf(options: CompiledOptions): ResolvePlan {
  const carried = (options as { [RESOLVE_PLAN]?: ResolvePlan })[RESOLVE_PLAN];
  return carried ?? buildPlan(options);
}

function buildPlan(options: CompiledOptions): ResolvePlan {
  const trusted = options.trustedHeaders;
  return Object.freeze({
    forwarded: trusted.has('forwarded'),
    forwardedFor: trusted.has('x-forwarded-for'),
    forwardedHost: trusted.has('x-forwarded-host'),
    forwardedProto: trusted.has('x-forwarded-proto'),
    forwardedPort: trusted.has('x-forwarded-port'),
    forwardedPrefix: trusted.has('x-forwarded-prefix'),
    clientIpHeader: SINGLE_CLIENT_IP_HEADERS.find((name) => trusted.has(name)),
    // Options made by hand may lack both: only a real setting turns them on.
    observed:
      options.explain === true ||
      typeof options.explain === 'function' ||
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-boolean-literal-compare -- hand-made options may carry undefined
      options.diagnose === true,
    hopTrust: options.requireTrustedHops ? options.trust : undefined,
    untrustedHeaders: PROXY_HEADER_NAMES.reduce(
      (bits, name, i) => (trusted.has(name) ? bits : bits | (1 << i)),
      0,
    ),
  });
}

/** Every proxy header, in the order of the bits of `ResolvePlan.untrustedHeaders`. */
export const PROXY_HEADER_NAMES: readonly ProxyHeaderName[] = [
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-forwarded-by',
  'forwarded',
  'x-real-ip',
  'cf-connecting-ip',
  'true-client-ip',
  'fastly-client-ip',
  'x-forwarded-prefix',
];

const SINGLE_CLIENT_IP_HEADERS: readonly SingleClientIpHeader[] = [
  'x-real-ip',
  'cf-connecting-ip',
  'true-client-ip',
  'fastly-client-ip',
];

/** The headers that can give the client address: exactly one may be trusted. */
const CLIENT_ADDRESS_SOURCES: readonly ProxyHeaderName[] = [
  'x-forwarded-for',
  'forwarded',
  ...SINGLE_CLIENT_IP_HEADERS,
];

const OPTION_NAMES = [
  'trustedProxy',
  'trustedProxyCount',
  'trustedProxyHeaders',
  'clearUntrustedProxyHeaders',
  'logUntrustedProxyHeaders',
  'urlScheme',
  'urlPrefix',
  'requireTrustedHops',
  'allowedHosts',
  'explain',
  'diagnose',
  'logger',
] as const;

/**
 * Validates and normalizes the options once, at start-up. Throws a
 * `WaitressProxyConfigError` that names the option, the value and the fix,
 * for the same mistakes waitress refuses (a count or headers without
 * `trustedProxy`, an unknown header, `forwarded` mixed with
 * `x-forwarded-*`) and for values of the wrong type.
 */
export function compileOptions(options: WaitressProxyOptions = {}): CompiledOptions {
  if (typeof options !== 'object' || (options as unknown) === null || Array.isArray(options)) {
    throw new WaitressProxyConfigError(
      'options',
      `options must be an object such as { trustedProxy: '10.0.0.5' }, received ${describe(options)}.`,
    );
  }
  checkOptionNames(options);

  const logger = compileLogger(options.logger);
  const trust = compileTrust(options.trustedProxy);
  const hasTrustedProxy = trust !== undefined;

  if (options.trustedProxyCount !== undefined && !hasTrustedProxy) {
    throw new WaitressProxyConfigError(
      'trustedProxyCount',
      'trustedProxyCount has no meaning without trustedProxy. Set trustedProxy to the ' +
        'address of your proxy, or remove trustedProxyCount.',
    );
  }
  const trustedProxyCount = compileCount(options.trustedProxyCount);

  let trustedHeaders = compileHeaders(options.trustedProxyHeaders);
  if (trustedHeaders.size > 0 && !hasTrustedProxy) {
    throw new WaitressProxyConfigError(
      'trustedProxyHeaders',
      'trustedProxyHeaders has no meaning without trustedProxy. Set trustedProxy to the ' +
        'address of your proxy, or remove trustedProxyHeaders.',
    );
  }
  const clientIpHeader = SINGLE_CLIENT_IP_HEADERS.find((name) => trustedHeaders.has(name));
  if (
    clientIpHeader !== undefined &&
    trustedProxyCount !== 1 &&
    !trustedHeaders.has('x-forwarded-host')
  ) {
    throw new WaitressProxyConfigError(
      'trustedProxyCount',
      `trustedProxyCount counts the entries of list headers, and ${clientIpHeader} holds one ` +
        'address, set by the last proxy: remove trustedProxyCount, or trust x-forwarded-for ' +
        `instead of ${clientIpHeader} if your proxies append to it.`,
    );
  }
  if (trustedHeaders.size === 0 && hasTrustedProxy) {
    // waitress keeps this for backwards compatibility and warns (adjustments.py).
    logger.warn(
      'waitress-proxy: trustedProxy is set but trustedProxyHeaders is not; only ' +
        'X-Forwarded-Proto is trusted. Set trustedProxyHeaders to the headers your proxy sends, ' +
        "such as ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'].",
    );
    trustedHeaders = new Set(['x-forwarded-proto']);
  }

  const compiled: CompiledOptions = {
    trust,
    trustSources: Object.freeze(trustSourcesIn(options.trustedProxy)),
    trustedProxyCount,
    trustedHeaders,
    clearUntrustedProxyHeaders: compileBoolean(
      'clearUntrustedProxyHeaders',
      options.clearUntrustedProxyHeaders,
      true,
    ),
    logUntrustedProxyHeaders: compileBoolean(
      'logUntrustedProxyHeaders',
      options.logUntrustedProxyHeaders,
      false,
    ),
    urlScheme: compileScheme(options.urlScheme),
    urlPrefix: normalizePrefix(options.urlPrefix),
    requireTrustedHops: compileBoolean('requireTrustedHops', options.requireTrustedHops, false),
    allowedHosts: compileAllowedHosts(options.allowedHosts),
    explain:
      typeof options.explain === 'function'
        ? options.explain
        : compileBoolean('explain', options.explain, false),
    diagnose: compileBoolean('diagnose', options.diagnose, false),
    logger,
  };
  // Not enumerable: the compiled options look as they always did.
  Object.defineProperty(compiled, RESOLVE_PLAN, { value: buildPlan(compiled) });
  Object.defineProperty(compiled, TRUSTED_PROXY_OPTION, { value: options.trustedProxy });
  return Object.freeze(compiled);
}

function checkOptionNames(options: object): void {
  for (const key of Object.keys(options)) {
    if ((OPTION_NAMES as readonly string[]).includes(key)) continue;
    const plain = key.replace(/[_-]/g, '').toLowerCase();
    const suggestion = OPTION_NAMES.find((name) => name.toLowerCase() === plain);
    throw new WaitressProxyConfigError(
      key,
      `received an unsupported option, \`${key}\`.` +
        (suggestion === undefined
          ? ` The options are ${OPTION_NAMES.join(', ')}.`
          : ` Did you mean \`${suggestion}\`?`),
    );
  }
}

function compileLogger(logger: unknown): ProxyLogger {
  if (logger === undefined) return console;
  if (
    typeof logger !== 'object' ||
    logger === null ||
    typeof (logger as { warn?: unknown }).warn !== 'function'
  ) {
    throw new WaitressProxyConfigError(
      'logger',
      `logger must be an object with a warn(message) method, such as console or a pino logger, received ${describe(logger)}.`,
    );
  }
  return logger as ProxyLogger;
}

function compileCount(count: unknown): number {
  if (count === undefined) return 1;
  if (typeof count !== 'number' || !(Number.isInteger(count) || count === Infinity) || count < 1) {
    throw new WaitressProxyConfigError(
      'trustedProxyCount',
      `trustedProxyCount must be a positive integer or Infinity (the number of proxies in ` +
        `front of the app), received ${describe(count)}.`,
    );
  }
  return count;
}

/** Trusted headers that cannot be read together, and why. */
export interface TrustedHeadersConflict {
  /** The headers of the set that exclude each other. */
  readonly headers: readonly ProxyHeaderName[];
  /** What to change, for the start-up error. */
  readonly message: string;
}

/**
 * Why a set of trusted headers cannot work together, or undefined when it
 * can. compileOptions throws with it; explain asks it before advising to
 * trust one more header, so its advice never names a configuration that
 * would not start.
 */
export function trustedHeadersConflict(
  headers: ReadonlySet<ProxyHeaderName>,
): TrustedHeadersConflict | undefined {
  // RFC 7239 has no prefix parameter: X-Forwarded-Prefix may go with Forwarded.
  const xForwarded = [...headers].filter(
    (name) => name.startsWith('x-forwarded-') && name !== 'x-forwarded-prefix',
  );
  if (headers.has('forwarded') && xForwarded.length > 0) {
    return {
      headers: ['forwarded', ...xForwarded],
      message:
        `the Forwarded header and the X-Forwarded-{For,Host,Proto,Port,By} headers are mutually ` +
        `exclusive: trust either 'forwarded' alone or the x-forwarded-* headers your proxy sends.`,
    };
  }
  const sources = CLIENT_ADDRESS_SOURCES.filter((name) => headers.has(name));
  if (sources.length > 1) {
    return {
      headers: sources,
      message:
        `trustedProxyHeaders names ${sources.length} sources of the client address ` +
        `(${sources.join(', ')}): a client could choose which one the app reads. Keep only the ` +
        'one your proxy sets or overwrites on every request.',
    };
  }
  return undefined;
}

function compileHeaders(headers: unknown): Set<ProxyHeaderName> {
  let names: string[];
  if (headers === undefined) return new Set();
  if (typeof headers === 'string') {
    names = splitList(headers);
  } else if (Array.isArray(headers) && headers.every((name) => typeof name === 'string')) {
    names = headers.flatMap(splitList);
  } else {
    throw new WaitressProxyConfigError(
      'trustedProxyHeaders',
      `trustedProxyHeaders must be an array of header names or one string of names separated ` +
        `by spaces or commas, received ${describe(headers)}.`,
    );
  }
  const result = new Set<ProxyHeaderName>();
  for (const name of names) {
    const lower = name.toLowerCase();
    if (!(PROXY_HEADER_NAMES as readonly string[]).includes(lower)) {
      throw new WaitressProxyConfigError(
        'trustedProxyHeaders',
        `unknown trustedProxyHeaders value "${name}". Expected some of ` +
          `${PROXY_HEADER_NAMES.join(', ')}.`,
      );
    }
    result.add(lower as ProxyHeaderName);
  }
  const conflict = trustedHeadersConflict(result);
  if (conflict !== undefined) {
    throw new WaitressProxyConfigError('trustedProxyHeaders', conflict.message);
  }
  return result;
}

function compileBoolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new WaitressProxyConfigError(
      name,
      `${name} must be true or false, received ${describe(value)}.`,
    );
  }
  return value;
}

function compileScheme(scheme: unknown): 'http' | 'https' | undefined {
  if (scheme === undefined) return undefined;
  if (scheme === 'http' || scheme === 'https') return scheme;
  throw new WaitressProxyConfigError(
    'urlScheme',
    `urlScheme must be 'http' or 'https', received ${describe(scheme)}.`,
  );
}

/**
 * waitress's `slash_fixed_str`: one leading slash, no trailing slash. A
 * prefix of only slashes means no prefix.
 */
function normalizePrefix(prefix: unknown): string {
  if (prefix === undefined) return '';
  if (typeof prefix !== 'string' || /[?#\s]/.test(prefix.trim())) {
    throw new WaitressProxyConfigError(
      'urlPrefix',
      `urlPrefix must be a path such as '/app' (no query, fragment or whitespace), received ${describe(prefix)}.`,
    );
  }
  const trimmed = prefix.trim().replace(/^\/+/, '').replace(/\/+$/, '');
  return trimmed === '' ? '' : `/${trimmed}`;
}
