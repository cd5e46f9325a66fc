/**
 * Per request: what the app should see. A pure function of the compiled
 * options and plain request data (its only effect is warnings through the
 * logger), following waitress's `proxy_headers.py` (which rewrites the WSGI
 * environ) and `task.py` (which builds it).
 *
 * Security model, as in waitress: proxy headers are used only when the peer
 * (the direct TCP connection) is a trusted proxy, only the headers named in
 * `trustedProxyHeaders`, and only the last `trustedProxyCount` entries of
 * each list, which the trusted proxies wrote; anything older came from the
 * client. Every proxy header that was not used is removed, so no code
 * downstream can be fooled by it.
 */
import { peerAddressOf, portNumber } from './address.js';
import {
  HostNotAllowedError,
  MalformedProxyHeaderError,
  MalformedRequestTargetError,
  TooManyHeadersError,
} from './errors.js';
import type { ProxyRequestError } from './errors.js';
import { resolveObserved } from './diagnose.js';
import { readForwarded } from './forwarded.js';
import { INVALID_HOST, hostnameOf, parseHost } from './host.js';
import { INVALID_PREFIX, forwardedPrefixOf } from './prefix.js';
import { windowOf } from './list.js';
import type { ForwardedNode } from './node.js';
import { PROXY_HEADER_NAMES, planOf } from './options.js';
import type { CompiledOptions, ProxyHeaderName, ProxyLogger, ResolvePlan } from './options.js';
import { UNIX_SOCKET_PEER, UNKNOWN_PEER, trustedProxyAdvice } from './trust.js';
import {
  readClientIp,
  readForwardedFor,
  readForwardedHost,
  readSingleValue,
} from './x-forwarded.js';

/** A header value as Node gives it in `IncomingMessage.headers`. */
export type HeaderValue = string | string[] | undefined;

/** Request headers as Node gives them: lower-case names. */
export type RequestHeaders = Readonly<Record<string, HeaderValue>>;

/** What the engine needs to know about one request. */
export interface RequestInput {
  /** `socket.remoteAddress`; undefined for a Unix socket (waitress then says `localhost`). */
  readonly peerAddress: string | undefined;
  /** `socket.remotePort`. */
  readonly peerPort: number | undefined;
  /** `socket.localPort`: the port the app listens on. */
  readonly localPort: number | undefined;
  /** Whether the connection to the app is TLS (`socket.encrypted`). */
  readonly encrypted: boolean;
  /** `req.headers`. */
  readonly headers: RequestHeaders;
  /** `req.url`: the path and query as received. */
  readonly url: string;
  /**
   * Whether Node may have dropped header lines past `server.maxHeadersCount`
   * (`requestInput` works it out). Then a trusted peer's request is refused
   * with 431, since the proxy's own lines come last and may be the lost
   * ones, and every proxy header name is removed from `rawHeaders`, where
   * lines beyond those in `headers` may remain. Default: false.
   */
  readonly headersTruncated?: boolean | undefined;
}

/**
 * What the app should see, each field with the WSGI environ key it stands for
 * in waitress.
 */
export interface ProxyView {
  /**
   * The client's address (REMOTE_ADDR): the oldest address inside the trusted
   * window, or the peer's. IPv6 without brackets, IPv4-mapped IPv6 as IPv4;
   * `unknown` or an RFC 7239 obfuscated identifier (`_hidden`) when a trusted
   * proxy said so.
   */
  readonly clientAddress: string;
  /**
   * The client's port (REMOTE_PORT): the one the trusted header gave with the
   * client address, if it gave one; the peer's port when no header gave the
   * client address.
   */
  readonly clientPort: number | undefined;
  /** The scheme the client used (wsgi.url_scheme). */
  readonly scheme: 'http' | 'https';
  /**
   * The host the client asked for, with a port when it is not the scheme's
   * default (HTTP_HOST). From the trusted forwarded host, else the Host header.
   */
  readonly host: string | undefined;
  /** `host` without its port, IPv6 in brackets (SERVER_NAME). */
  readonly hostname: string | undefined;
  /**
   * The port the client connected to (SERVER_PORT): the forwarded one when a
   * trusted header gave it, 80/443 when a trusted proto implies it, else the
   * app's own listening port.
   */
  readonly port: number;
  /** The normalized `urlPrefix` (SCRIPT_NAME), `''` without one. */
  readonly prefix: string;
  /**
   * The request path with `prefix` removed, plus the query (PATH_INFO +
   * QUERY_STRING); `''` or a query alone when the path is exactly the prefix.
   * Not percent-decoded. An absolute-form target (`http://host/a`) is reduced
   * to its path and query.
   */
  readonly path: string;
  /** The addresses of the trusted window, client first; empty when no header gave any. */
  readonly ips: readonly string[];
  /**
   * The direct peer's address (IPv4-mapped unwrapped, an IPv6 zone such as
   * `%eth0` dropped; `localhost` for a Unix socket).
   */
  readonly peerAddress: string;
  /** Whether the peer matched `trustedProxy`. */
  readonly peerTrusted: boolean;
}

/** A change to make to the request's headers: a new value, or `undefined` to remove it. */
export interface HeaderChange {
  /** Lower-case header name. */
  readonly name: string;
  /** The new value, or `undefined` to remove every line of the header. */
  readonly value: string | undefined;
}

/**
 * The engine's answer for one request: a view and the header changes, and on
 * failure the malformed-header error too. A failed request still gets a safe
 * view (the direct connection's, as if no proxy header were trusted) and the
 * removal of every proxy header, so an error handler that reads the client
 * address or the headers sees nothing forged.
 */
export type Resolution =
  | {
      /** The request resolved: serve it with `view`. */
      readonly ok: true;
      /** What the app should see. */
      readonly view: ProxyView;
      /** What to do to the headers; empty (and shared) when nothing changes. */
      readonly headerChanges: readonly HeaderChange[];
    }
  | {
      /** The request is refused with `error.statusCode`. */
      readonly ok: false;
      /**
       * A malformed header from a trusted proxy (400), or a trusted proxy's
       * request with more header lines than the server keeps (431).
       */
      readonly error: ProxyRequestError;
      /** The direct connection's view. */
      readonly view: ProxyView;
      /** Every proxy header removed (when `clearUntrustedProxyHeaders` is on). */
      readonly headerChanges: readonly HeaderChange[];
    };

const NO_CHANGES: readonly HeaderChange[] = Object.freeze([]);
/** Every bit of `PROXY_HEADER_NAMES`. */
const ALL_PROXY_HEADERS = (1 << PROXY_HEADER_NAMES.length) - 1;
const NO_IPS: readonly string[] = Object.freeze([]);

/** Proxy header names as waitress spells them in messages. */
export const DISPLAY_NAMES: Readonly<Record<ProxyHeaderName, string>> = {
  'x-forwarded-for': 'X-Forwarded-For',
  'x-forwarded-host': 'X-Forwarded-Host',
  'x-forwarded-proto': 'X-Forwarded-Proto',
  'x-forwarded-port': 'X-Forwarded-Port',
  'x-forwarded-by': 'X-Forwarded-By',
  forwarded: 'Forwarded',
  'x-real-ip': 'X-Real-IP',
  'cf-connecting-ip': 'CF-Connecting-IP',
  'true-client-ip': 'True-Client-IP',
  'fastly-client-ip': 'Fastly-Client-IP',
  'x-forwarded-prefix': 'X-Forwarded-Prefix',
};

/**
 * Resolves one request. Never throws for any header input: a malformed header
 * from a trusted proxy is returned as `{ ok: false, error }` (and warned
 * about through the logger); everything else gives `{ ok: true, view }`.
 *
 * @param logger overrides the compiled logger for this request (Fastify's
 *   `request.log`, say).
 */
export function resolve(
  options: CompiledOptions,
  input: RequestInput,
  logger: ProxyLogger = options.logger,
): Resolution {
  const plan = planOf(options);
  // The explain and diagnose options: off by default, one test when off.
  if (plan.observed) return resolveObserved(options, input, logger);
  return resolveWithPlan(options, plan, input, logger, undefined);
}

/** A view field whose origin `explain` reports. */
export type TracedField = 'clientAddress' | 'scheme' | 'host' | 'port' | 'prefix';

/**
 * What `explain` learns from the rules as they run. `resolve` passes none:
 * each hook is one `undefined` test on its path.
 */
export interface ResolveTrace {
  /** A trusted header was read; `start` is where its trusted part begins in `value`. */
  read(header: ProxyHeaderName, value: string, start: number): void;
  /** A view field was taken from `header` (its display name); `detail` says how. */
  from(field: TracedField, header: string, detail?: string): void;
}

/** `resolve`, reporting to `trace` (see explain.ts). */
export function resolveTraced(
  options: CompiledOptions,
  input: RequestInput,
  logger: ProxyLogger,
  trace: ResolveTrace | undefined,
): Resolution {
  return resolveWithPlan(options, planOf(options), input, logger, trace);
}

function resolveWithPlan(
  options: CompiledOptions,
  plan: ResolvePlan,
  input: RequestInput,
  logger: ProxyLogger,
  trace: ResolveTrace | undefined,
): Resolution {
  const peerAddress =
    input.peerAddress === undefined ? UNIX_SOCKET_PEER : peerAddressOf(input.peerAddress);
  const peerTrusted = options.trust !== undefined && options.trust(peerAddress);
  const truncated = input.headersTruncated === true;
  const view = directView(options, input, peerAddress, peerTrusted);

  if (!isRequestTarget(input.url)) {
    logger.warn(
      `waitress-proxy: Refused a request from "${peerAddress}" whose target is neither a path ` +
        `nor an absolute URL: ${JSON.stringify(truncate(input.url))}`,
    );
    return refused(options, input, peerAddress, view, new MalformedRequestTargetError(input.url));
  }

  const split = splitAuthority(input);
  if (split !== undefined) {
    logger.warn(
      `waitress-proxy: Refused a request from "${peerAddress}" whose Host differs from its ` +
        `:authority: ${JSON.stringify(truncate(split.host))} and ` +
        JSON.stringify(truncate(split.authority)),
    );
    const error = new MalformedProxyHeaderError('Host', 'differs from :authority', split.host);
    return refused(options, input, peerAddress, view, error);
  }

  let changes: HeaderChange[] | undefined;
  if (peerTrusted) {
    let error: ProxyRequestError | undefined;
    if (truncated) {
      // Before reading anything: the proxy's own lines come last, so they
      // may be the dropped ones, and a forged earlier line would pass for them.
      error = new TooManyHeadersError();
      logger.warn(
        `waitress-proxy: Refused a request from trusted proxy "${peerAddress}" with more ` +
          "header lines than the server keeps (Node's server.maxHeadersCount): its proxy " +
          'headers may have been dropped.',
      );
    } else {
      const result = applyTrustedHeaders(options, plan, input, view, logger, trace);
      if (result instanceof MalformedProxyHeaderError) {
        error = result;
        logger.warn(
          `waitress-proxy: Malformed proxy header "${result.header}" from "${peerAddress}": ` +
            `${result.reason}; value: ${JSON.stringify(truncate(result.value))}`,
        );
      } else {
        changes = result;
      }
    }
    if (error !== undefined) {
      // `view` may be half-filled: start again from the direct connection.
      const direct = directView(options, input, peerAddress, peerTrusted);
      return refused(options, input, peerAddress, direct, error);
    }
  }

  if (options.allowedHosts !== undefined && !options.allowedHosts(view.host, view.scheme)) {
    logger.warn(
      `waitress-proxy: Refused a request from "${peerAddress}" for a host not in allowedHosts: ` +
        JSON.stringify(truncate(view.host ?? '(none)')),
    );
    const direct = directView(options, input, peerAddress, peerTrusted);
    return refused(options, input, peerAddress, direct, new HostNotAllowedError(view.host));
  }

  if (!peerTrusted && peerAddress === UNIX_SOCKET_PEER) warnUnixSocketTrap(options, input, logger);
  if (options.clearUntrustedProxyHeaders) {
    const untrusted = peerTrusted ? plan.untrustedHeaders : ALL_PROXY_HEADERS;
    changes = removeUntrusted(options, untrusted, input, peerAddress, changes, logger);
  }
  return { ok: true, view, headerChanges: changes ?? NO_CHANGES };
}

/**
 * A refused request: the direct connection's view, and every proxy header
 * removed, so the framework's error path sees nothing forged.
 */
function refused(
  options: CompiledOptions,
  input: RequestInput,
  peerAddress: string,
  view: ProxyView,
  error: ProxyRequestError,
): Resolution {
  const removals = options.clearUntrustedProxyHeaders
    ? removeUntrusted(options, ALL_PROXY_HEADERS, input, peerAddress, undefined, undefined)
    : undefined;
  return { ok: false, error, view, headerChanges: removals ?? NO_CHANGES };
}

/**
 * Whether `target` is a request target the view can be built from: a path
 * (origin-form), an absolute URL (absolute-form, whose authority is dropped)
 * or `*` (asterisk-form), RFC 9112 section 3.2. Node's parser passes others
 * on (`*@evil.example/x`), and a link built as scheme, host and that target
 * (`http://app.example*@evil.example/x`) points at the client's host.
 */
function isRequestTarget(target: string): boolean {
  const first = target.charCodeAt(0);
  if (first === 0x2f /* / */) return true;
  if (first === 0x2a /* * */) return target.length === 1;
  // absolute-form: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then "://".
  if (!isAlpha(first)) return false;
  for (let i = 1; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c === 0x3a /* : */) {
      return target.charCodeAt(i + 1) === 0x2f && target.charCodeAt(i + 2) === 0x2f;
    }
    if (!isAlpha(c) && !(c >= 0x30 && c <= 0x39) && c !== 0x2b && c !== 0x2d && c !== 0x2e) {
      return false;
    }
  }
  return false;
}

function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/**
 * An HTTP/2 request whose Host differs from its `:authority`: the
 * two values, or undefined when they agree or one is missing. RFC 9113
 * section 8.3.1 says a client must not send such a request and a server
 * should treat it as malformed. Its danger is a split view: Fastify and the
 * view read Host first, Koa and `req.authority` read `:authority`, so one
 * could pass `allowedHosts` while code reading the other builds links for an
 * attacker's host. Refused from any peer; host names compare without case.
 */
function splitAuthority(input: RequestInput): { host: string; authority: string } | undefined {
  const authority = single(input.headers[':authority']);
  if (authority === undefined) return undefined;
  const host = single(input.headers.host);
  if (host === undefined || host === authority || host.toLowerCase() === authority.toLowerCase()) {
    return undefined;
  }
  return { host, authority };
}

/** The options that have warned about the Unix-socket trap: once each. */
const warnedUnixSocket = new WeakSet<CompiledOptions>();

/**
 * The trap every nginx guide sets: behind `proxy_pass http://unix:...` the
 * peer has no address, so `trustedProxy: '127.0.0.1'` (or `'loopback'`)
 * trusts nothing and the app sees `localhost` and `http`, silently. Warn the
 * first time proxy headers arrive that way.
 */
function warnUnixSocketTrap(
  options: CompiledOptions,
  input: RequestInput,
  logger: ProxyLogger,
): void {
  if (options.trust === undefined || warnedUnixSocket.has(options)) return;
  if (proxyHeadersIn(input.headers) === 0) return;
  warnedUnixSocket.add(options);
  logger.warn(
    'waitress-proxy: A Unix-socket peer sent proxy headers, but trustedProxy does not match it: ' +
      "a socket peer has no address, so '127.0.0.1' and 'loopback' do not trust it. If your proxy " +
      "connects over this socket, add 'unix' to trustedProxy (and let only the proxy open the " +
      'socket: mode 660, the group of the proxy).',
  );
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** What the direct connection says, before any proxy header. */
function directView(
  options: CompiledOptions,
  input: RequestInput,
  peerAddress: string,
  peerTrusted: boolean,
): Mutable<ProxyView> {
  // HTTP/2 requests may carry :authority instead of Host (RFC 9113 8.3.1).
  const host = single(input.headers.host) ?? single(input.headers[':authority']);
  const scheme = options.urlScheme ?? (input.encrypted ? 'https' : 'http');
  return {
    clientAddress: peerAddress,
    clientPort: input.peerPort,
    scheme,
    host,
    hostname: hostnameOf(host),
    port: input.localPort ?? (scheme === 'https' ? 443 : 80),
    prefix: options.urlPrefix,
    path: stripPrefix(input.url, options.urlPrefix),
    ips: NO_IPS,
    peerAddress,
    peerTrusted,
  };
}

/**
 * waitress's `parse_proxy_headers`: fills `view` from the trusted headers and
 * returns the header rewrites, or the first malformed header.
 */
function applyTrustedHeaders(
  options: CompiledOptions,
  plan: ResolvePlan,
  input: RequestInput,
  view: Mutable<ProxyView>,
  logger: ProxyLogger,
  trace: ResolveTrace | undefined,
): HeaderChange[] | undefined | MalformedProxyHeaderError {
  const headers = input.headers;
  const count = options.trustedProxyCount;
  const hopTrust = plan.hopTrust;
  let changes: HeaderChange[] | undefined;
  let client: ForwardedNode | undefined;
  let ips: string[] | undefined;
  let forwardedHost = '';
  let forwardedProto = '';
  let forwardedPort = 0; // none
  let hostHeader: 'X-Forwarded-Host' | 'Forwarded' = 'X-Forwarded-Host';
  let protoHeader: 'X-Forwarded-Proto' | 'Forwarded' = 'X-Forwarded-Proto';
  let clientHeader = '';
  // With requireTrustedHops the window ends at the first untrusted hop, and
  // the host list is cut to the same depth as the address list.
  let hostCount = count;

  if (plan.forwarded) {
    const value = single(headers.forwarded);
    if (value !== undefined && value !== '') {
      const window = readForwarded(value, count, hopTrust, logger);
      if (window instanceof MalformedProxyHeaderError) return window;
      // The oldest element inside the window that has a value wins (waitress):
      // intermediate proxies may rewrite host or proto, but the oldest entry
      // is what the client used.
      for (let i = window.elements.length - 1; i >= 0; i--) {
        const element = window.elements[i];
        if (element === undefined) continue;
        if (element.for !== undefined) client = element.for;
        if (element.host !== '') forwardedHost = element.host;
        if (element.proto !== '') forwardedProto = element.proto;
      }
      ips = [];
      for (const element of window.elements) {
        if (element.for !== undefined) ips.push(element.for.address);
      }
      changes = cutTo(changes, 'forwarded', value, window.start);
      hostHeader = protoHeader = 'Forwarded';
      clientHeader = 'Forwarded';
      trace?.read('forwarded', value, window.start);
    }
  } else {
    if (plan.forwardedFor) {
      const value = single(headers['x-forwarded-for']);
      if (value !== undefined) {
        const chain = readForwardedFor(value, count, hopTrust);
        if (chain instanceof MalformedProxyHeaderError) return chain;
        client = chain.client;
        ips = chain.ips;
        if (hopTrust !== undefined && ips.length > 0) hostCount = ips.length;
        if (!chain.whole) changes = cutTo(changes, 'x-forwarded-for', value, chain.start);
        clientHeader = 'X-Forwarded-For';
        trace?.read('x-forwarded-for', value, chain.start);
      }
    } else if (plan.clientIpHeader !== undefined) {
      const name = plan.clientIpHeader;
      const value = single(headers[name]);
      if (value !== undefined) {
        const node = readClientIp(DISPLAY_NAMES[name], value);
        if (node instanceof MalformedProxyHeaderError) return node;
        client = node;
        ips = [node.address];
        clientHeader = DISPLAY_NAMES[name];
        trace?.read(name, value, 0);
      }
    }
    if (plan.forwardedHost) {
      const value = single(headers['x-forwarded-host']);
      if (value !== undefined) {
        const chain = readForwardedHost(value, hostCount);
        if (chain instanceof MalformedProxyHeaderError) return chain;
        if (chain !== undefined) {
          forwardedHost = chain.host;
          if (!chain.whole) changes = cutTo(changes, 'x-forwarded-host', value, chain.start);
          trace?.read('x-forwarded-host', value, chain.start);
        }
      }
    }
    if (plan.forwardedProto) {
      const value = single(headers['x-forwarded-proto']);
      if (value !== undefined) {
        // What proxies send, taken as it is; anything else is read and checked.
        const proto = isScheme(value) ? value : readSingleValue('X-Forwarded-Proto', value);
        if (proto instanceof MalformedProxyHeaderError) return proto;
        forwardedProto = proto;
        trace?.read('x-forwarded-proto', value, 0);
      }
    }
    if (plan.forwardedPort) {
      const value = single(headers['x-forwarded-port']);
      if (value !== undefined) {
        const port = readSingleValue('X-Forwarded-Port', value);
        if (port instanceof MalformedProxyHeaderError) return port;
        if (port !== '') {
          forwardedPort = portNumber(port, 0);
          if (forwardedPort === -1) {
            return new MalformedProxyHeaderError('X-Forwarded-Port', 'not a port 1-65535', value);
          }
          trace?.from('port', 'X-Forwarded-Port');
        }
        trace?.read('x-forwarded-port', value, 0);
      }
    }
  }

  if (plan.forwardedPrefix) {
    const value = single(headers['x-forwarded-prefix']);
    if (value !== undefined) {
      // Several values: the oldest inside the window, as X-Forwarded-Host.
      const chain = readForwardedHost(value, hostCount, 'X-Forwarded-Prefix');
      if (chain instanceof MalformedProxyHeaderError) return chain;
      if (chain !== undefined) {
        const prefix = forwardedPrefixOf(chain.host);
        if (prefix === undefined) {
          return new MalformedProxyHeaderError('X-Forwarded-Prefix', INVALID_PREFIX, value);
        }
        // The proxy stripped its prefix; urlPrefix, if the path still has
        // it, is stripped here and follows it.
        const local = view.path !== originForm(input.url) ? options.urlPrefix : '';
        view.prefix = prefix + local;
        if (!chain.whole) changes = cutTo(changes, 'x-forwarded-prefix', value, chain.start);
        trace?.read('x-forwarded-prefix', value, chain.start);
        trace?.from('prefix', 'X-Forwarded-Prefix');
      }
    }
  }

  if (forwardedProto !== '') {
    const proto = isScheme(forwardedProto) ? forwardedProto : forwardedProto.toLowerCase();
    if (proto !== 'http' && proto !== 'https') {
      return new MalformedProxyHeaderError(protoHeader, 'not "http" or "https"', forwardedProto);
    }
    view.scheme = proto;
    trace?.from('scheme', protoHeader);
    // HTTP/2 carries the scheme in :scheme (RFC 9113 8.3.1): both say the same.
    const pseudoScheme = headers[':scheme'];
    if (pseudoScheme !== undefined && single(pseudoScheme) !== proto) {
      (changes ??= []).push({ name: ':scheme', value: proto });
    }
    if (forwardedPort === 0) {
      forwardedPort = proto === 'https' ? 443 : 80;
      trace?.from('port', protoHeader, `the default port of ${proto}`);
    }
  }

  if (forwardedHost !== '') {
    const parsed = parseHost(forwardedHost);
    if (parsed === undefined) {
      return new MalformedProxyHeaderError(hostHeader, INVALID_HOST, forwardedHost);
    }
    view.hostname = parsed.hostname;
    if (parsed.port !== undefined) {
      // A port inside the forwarded host beats X-Forwarded-Port and the
      // proto's default (waitress), and the host keeps it as written.
      forwardedPort = parsed.port;
      view.host = forwardedHost;
      trace?.from('port', hostHeader, 'the port in the forwarded host');
    } else if (forwardedPort !== 0 && !isDefaultPort(forwardedPort, view.scheme)) {
      view.host = `${forwardedHost}:${forwardedPort}`;
    } else {
      view.host = forwardedHost;
    }
    trace?.from('host', hostHeader);
    if (view.host !== single(headers.host))
      (changes ??= []).push({ name: 'host', value: view.host });
    // HTTP/2 carries the host in :authority too (RFC 9113 8.3.1): both say the same.
    const authority = headers[':authority'];
    if (authority !== undefined && view.host !== single(authority)) {
      (changes ??= []).push({ name: ':authority', value: view.host });
    }
  }

  if (forwardedPort !== 0) view.port = forwardedPort;

  if (client !== undefined) {
    view.clientAddress = client.address;
    view.clientPort = client.port;
    trace?.from('clientAddress', clientHeader);
  }
  if (ips !== undefined) view.ips = ips;
  return changes;
}

/**
 * Records a list header cut down to its window (waitress 3.0.2), unless the
 * window is the whole header already: most requests pass one proxy, and then
 * there is nothing to rewrite.
 */
function cutTo(
  changes: HeaderChange[] | undefined,
  name: ProxyHeaderName,
  value: string,
  start: number,
): HeaderChange[] | undefined {
  const window = windowOf(value, start);
  if (window === value) return changes;
  (changes ??= []).push({ name, value: window });
  return changes;
}

/** `http` or `https` exactly, as proxies send it: taken without reading it again. */
function isScheme(text: string): text is 'http' | 'https' {
  return text === 'https' || text === 'http';
}

function isDefaultPort(port: number, scheme: 'http' | 'https'): boolean {
  return scheme === 'https' ? port === 443 : port === 80;
}

/**
 * waitress's `clear_untrusted_headers`: removes the proxy headers that were
 * not used, `untrusted` (bits of `PROXY_HEADER_NAMES`). From an untrusted
 * peer that is all of them; from a trusted one, those not in
 * `trustedProxyHeaders` (with `forwarded` trusted, every `X-Forwarded-*`),
 * which the plan keeps. When Node cut the header lines, `headers` may lack a
 * name that `rawHeaders` still has past the cut: every untrusted name is
 * then removed, and `applyHeaderChanges` scans `rawHeaders` whole.
 */
function removeUntrusted(
  options: CompiledOptions,
  untrusted: number,
  input: RequestInput,
  peerAddress: string,
  changes: HeaderChange[] | undefined,
  logger: ProxyLogger | undefined,
): HeaderChange[] | undefined {
  const present = proxyHeadersIn(input.headers) & untrusted;
  const found = input.headersTruncated === true ? untrusted : present;
  if (found === 0) return changes;
  let removed: string[] | undefined;
  for (let i = 0; i < PROXY_HEADER_NAMES.length; i++) {
    const name = PROXY_HEADER_NAMES[i];
    if ((found & (1 << i)) === 0 || name === undefined) continue;
    (changes ??= []).push({ name, value: undefined });
    if ((present & (1 << i)) !== 0 && logger !== undefined && options.logUntrustedProxyHeaders) {
      (removed ??= []).push(DISPLAY_NAMES[name]);
    }
  }
  if (removed !== undefined) {
    logger?.warn(untrustedHeadersWarning(removed, peerAddress, untrusted === ALL_PROXY_HEADERS));
  }
  return changes;
}

/**
 * The warning for removed headers: names the peer as the engine compared it
 * and says which fix fits, since the peer may be the very proxy the user
 * meant to trust (a Unix-socket nginx is `localhost`, trusted by `'unix'`, not
 * by `127.0.0.1`).
 */
function untrustedHeadersWarning(
  removed: readonly string[],
  peerAddress: string,
  peerUntrusted: boolean,
): string {
  const names = removed.join(', ');
  if (peerAddress === UNKNOWN_PEER) {
    return (
      `waitress-proxy: Removed untrusted headers (${names}) from a connection that closed ` +
      'before the request was resolved: Node no longer reports its peer, so it is "unknown" ' +
      'and not a trusted proxy.'
    );
  }
  if (peerUntrusted) {
    return (
      `waitress-proxy: Removed untrusted headers (${names}) from "${peerAddress}", which is ` +
      `not a trusted proxy. If it is your proxy, ${trustedProxyAdvice(peerAddress)}; ` +
      'otherwise a client sent them, and the proxy in front should remove them.'
    );
  }
  return (
    `waitress-proxy: Removed untrusted headers (${names}) from trusted proxy ` +
    `"${peerAddress}": they are not in trustedProxyHeaders. If the proxy sets them, add them ` +
    'to trustedProxyHeaders; otherwise remove them at the proxy.'
  );
}

/**
 * Which proxy headers the request carries, as bits of `PROXY_HEADER_NAMES`.
 * Each is read with its own constant key: a loop over the names would make
 * every read a megamorphic keyed load, about ten times slower for a header
 * that is absent, as most are.
 */
function proxyHeadersIn(headers: RequestHeaders): number {
  return (
    (headers['x-forwarded-for'] === undefined ? 0 : 1) |
    (headers['x-forwarded-host'] === undefined ? 0 : 2) |
    (headers['x-forwarded-proto'] === undefined ? 0 : 4) |
    (headers['x-forwarded-port'] === undefined ? 0 : 8) |
    (headers['x-forwarded-by'] === undefined ? 0 : 16) |
    (headers.forwarded === undefined ? 0 : 32) |
    (headers['x-real-ip'] === undefined ? 0 : 64) |
    (headers['cf-connecting-ip'] === undefined ? 0 : 128) |
    (headers['true-client-ip'] === undefined ? 0 : 256) |
    (headers['fastly-client-ip'] === undefined ? 0 : 512) |
    (headers['x-forwarded-prefix'] === undefined ? 0 : 1024)
  );
}

/**
 * waitress's `task.py`: with a prefix, a path equal to it becomes `''` and a
 * path starting with it and a slash loses it; other paths are left alone.
 * An absolute-form request target (`GET http://host/path`, RFC 9112 3.2.2)
 * is first reduced to its path and query, as waitress does, prefix or not.
 */
function stripPrefix(target: string, prefix: string): string {
  const url = originForm(target);
  if (prefix === '' || !url.startsWith(prefix)) return url;
  const next = url.charCodeAt(prefix.length);
  // End of URL, start of the query, or a slash: the prefix is a whole segment.
  if (Number.isNaN(next) || next === 0x3f /* ? */ || next === 0x2f /* / */) {
    return url.slice(prefix.length);
  }
  return url;
}

/**
 * The URL an app should route on (waitress's PATH_INFO plus the query): the
 * request URL without `urlPrefix`, always starting with `/` (a path equal to
 * the prefix routes as `/`). Adapters assign it to `req.url`; Fastify's
 * `rewriteUrl` returns it.
 */
export function routeUrl(options: CompiledOptions, url: string): string {
  const path = stripPrefix(url, options.urlPrefix);
  return path === '' || path.charCodeAt(0) === 0x3f /* ? */ ? `/${path}` : path;
}

/**
 * The path and query of an absolute-form target (`http://host/a?b` → `/a?b`,
 * `http://host?b` → `/?b`); origin-form and `*` unchanged; anything else `/`,
 * so the result always starts with `/` or is `*`. Adapters build absolute URLs (Koa's `href`) from the view's
 * scheme and host and this, never from a client's absolute-form target.
 */
export function originForm(target: string): string {
  // Origin-form may hold `://` in its path or query (`/login?next=http://a/b`):
  // that is no authority.
  if (target.charCodeAt(0) === 0x2f /* / */) return target;
  const scheme = target.indexOf('://');
  // Neither a path nor an absolute URL: `*` stays (asterisk-form); anything
  // else (`*@evil.example/x`, which resolve refuses) is never handed on as a
  // path, since scheme + host + path would then name the client's host.
  if (scheme === -1) return target === '*' ? target : '/';
  const authorityEnd = scheme + 3;
  for (let i = authorityEnd; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c === 0x2f /* / */) return target.slice(i);
    if (c === 0x3f /* ? */) return `/${target.slice(i)}`;
  }
  return '/';
}

/**
 * One value of a header. Node joins repeated proxy-header lines with `, `,
 * so an array only comes from code that built headers itself: join it the
 * same way.
 */
function single(value: HeaderValue): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

function truncate(value: string): string {
  return value.length > 256 ? `${value.slice(0, 256)}...` : value;
}
