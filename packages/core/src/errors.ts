/**
 * The two kinds of failure the engine knows: configuration that cannot work
 * (thrown once, at start-up) and a malformed header from a trusted proxy
 * (returned per request, never thrown, so a hostile request cannot crash the
 * process).
 */

/** Stable codes, so callers can branch without parsing messages. */
export type WaitressProxyErrorCode =
  | 'WAITRESS_PROXY_INVALID_OPTION'
  | 'WAITRESS_PROXY_MALFORMED_HEADER'
  | 'WAITRESS_PROXY_TOO_MANY_HEADERS'
  | 'WAITRESS_PROXY_RANGES_UNAVAILABLE'
  | 'WAITRESS_PROXY_HOST_NOT_ALLOWED';

/**
 * Thrown by `compileOptions` when an option cannot work. The message names the
 * option, the value received, and what to write instead.
 */
export class WaitressProxyConfigError extends TypeError {
  /** Stable: `WAITRESS_PROXY_INVALID_OPTION`. */
  readonly code = 'WAITRESS_PROXY_INVALID_OPTION' satisfies WaitressProxyErrorCode;
  /** The option at fault, as the user spells it (`trustedProxyCount`). */
  readonly option: string;

  constructor(option: string, message: string) {
    super(`waitress-proxy: ${message}`);
    this.name = 'WaitressProxyConfigError';
    this.option = option;
  }
}

/**
 * A proxy header sent by a trusted proxy that cannot be understood. It is a
 * client error (400), and its message is safe to show: it names the header,
 * exactly as waitress does (`Header "X-Forwarded-Proto" malformed.`), and
 * never repeats the value. The value and the reason are kept for logs.
 *
 * `status`, `statusCode` and `expose` follow the http-errors convention that
 * Express, Fastify and Koa error handlers read.
 */
export class MalformedProxyHeaderError extends Error {
  /** Stable, for branching without parsing the message: `WAITRESS_PROXY_MALFORMED_HEADER`. */
  readonly code = 'WAITRESS_PROXY_MALFORMED_HEADER' satisfies WaitressProxyErrorCode;
  /** The HTTP status to answer with (400), as Express and Koa read it. */
  readonly status = 400;
  /** The same status, as Fastify and Node's http-errors read it. */
  readonly statusCode = 400;
  /** The message is safe to send to the client (it never repeats a header's value). */
  readonly expose = true;
  /** The header's name in its usual spelling, such as `X-Forwarded-For`. */
  readonly header: string;
  /** Why the header was refused, for logs. */
  readonly reason: string;
  /** The header's value as received, for logs only: never send it back. */
  readonly value: string;

  constructor(header: string, reason: string, value: string) {
    super(`Header "${header}" malformed.`);
    this.name = 'MalformedProxyHeaderError';
    this.header = header;
    this.reason = reason;
    this.value = value;
  }
}

/**
 * A request from a trusted proxy with so many header lines that Node dropped
 * some (it keeps at most `server.maxHeadersCount`, 1,000 by default, and
 * drops the rest without a word). The proxy appends its own lines after the
 * client's, so the dropped ones may be exactly the proxy's, and a line the
 * client forged earlier would pass for them: nothing is read, and the request
 * is refused with 431 (RFC 6585 section 5, Request Header Fields Too Large).
 *
 * `status`, `statusCode` and `expose` follow the http-errors convention, as
 * on `MalformedProxyHeaderError`.
 */
export class TooManyHeadersError extends Error {
  /** Stable, for branching without parsing the message: `WAITRESS_PROXY_TOO_MANY_HEADERS`. */
  readonly code = 'WAITRESS_PROXY_TOO_MANY_HEADERS' satisfies WaitressProxyErrorCode;
  /** The HTTP status to answer with (431), as Express and Koa read it. */
  readonly status = 431;
  /** The same status, as Fastify and Node's http-errors read it. */
  readonly statusCode = 431;
  /** The message is safe to send to the client (it never repeats a header's value). */
  readonly expose = true;

  constructor() {
    super("Too many header lines: proxy headers past the server's limit would be lost.");
    this.name = 'TooManyHeadersError';
  }
}

/**
 * A request for a host that `allowedHosts` does not list (the trusted
 * forwarded host, else `Host`, else HTTP/2 `:authority`), or for no host at
 * all: a 400, as Django and ASP.NET Core answer Host-header poisoning. The
 * message names the host, cut to 100 characters and JSON-quoted.
 */
export class HostNotAllowedError extends Error {
  /** Stable, for branching without parsing the message: `WAITRESS_PROXY_HOST_NOT_ALLOWED`. */
  readonly code = 'WAITRESS_PROXY_HOST_NOT_ALLOWED' satisfies WaitressProxyErrorCode;
  /** The HTTP status to answer with (400), as Express and Koa read it. */
  readonly status = 400;
  /** The same status, as Fastify and Node's http-errors read it. */
  readonly statusCode = 400;
  /** The message is safe to send to the client (it never repeats a header's value). */
  readonly expose = true;
  /** The host as received (undefined when the request had none), for logs. */
  readonly host: string | undefined;

  constructor(host: string | undefined) {
    super(
      host === undefined || host === ''
        ? 'A request without a host is not allowed.'
        : `Host ${JSON.stringify(host.length > 100 ? `${host.slice(0, 100)}...` : host)} is not allowed.`,
    );
    this.name = 'HostNotAllowedError';
    this.host = host;
  }
}

/** Why `resolve` refused a request; each carries `statusCode` for the framework. */
export type ProxyRequestError =
  MalformedProxyHeaderError | TooManyHeadersError | HostNotAllowedError;

/**
 * A request that arrived when a `trustedProxy` range source
 * (`@waitress-proxy/ranges`) had failed its first load: the app cannot tell
 * its proxies from anyone else, so it answers 503 rather than guess. The
 * message is safe to show; the load's error is in `cause`, for logs.
 */
export class TrustedRangesUnavailableError extends Error {
  /** Stable, for branching without parsing the message: `WAITRESS_PROXY_RANGES_UNAVAILABLE`. */
  readonly code = 'WAITRESS_PROXY_RANGES_UNAVAILABLE' satisfies WaitressProxyErrorCode;
  /** The HTTP status to answer with (503), as Express and Koa read it. */
  readonly status = 503;
  /** The same status, as Fastify and Node's http-errors read it. */
  readonly statusCode = 503;
  /** The message is safe to send to the client (it never repeats a header's value). */
  readonly expose = true;

  constructor(cause: unknown) {
    super('Service Unavailable: the trusted proxy ranges could not be loaded.', { cause });
    this.name = 'TrustedRangesUnavailableError';
  }
}
