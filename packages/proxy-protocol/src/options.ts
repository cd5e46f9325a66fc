/** `acceptProxyProtocol`'s options, validated and compiled once. */
import { compileTrust, WaitressProxyConfigError } from '@waitress-proxy/core';
import type { ProxyLogger, TrustedProxy, TrustMatcher } from '@waitress-proxy/core';

/** The options of `acceptProxyProtocol`. */
export interface ProxyProtocolOptions {
  /**
   * The load balancers that send a PROXY header: the same syntax and matcher
   * as waitress-proxy's `trustedProxy` (an address, a CIDR range,
   * `'loopback'`, `'uniquelocal'`, `'unix'` for a Unix-socket peer, a list,
   * a range source, a function, or `'*'`). Required.
   *
   * A connection from a peer that matches MUST start with a PROXY header
   * (v1 or v2): without one, it is closed. A connection from any other peer
   * is never read for one: its bytes go to the HTTP parser untouched, so a
   * client that sends a PROXY header itself gets Node's 400.
   */
  readonly from: TrustedProxy;
  /**
   * How long, in milliseconds, a matching peer has to deliver the whole
   * header, counted from the connection's start however the bytes are
   * spread (a byte at a time does not extend it). The connection is closed
   * when it runs out. Default 5000.
   */
  readonly timeout?: number;
  /**
   * Where the reader says why it closed a connection from a peer in `from`
   * (no header, a malformed one, the timeout): once for each peer and
   * reason, for at most 100 of them, then once more to say it stops. A
   * misconfigured load balancer (one that does not send the header) shows up
   * here instead of as silently closed connections. An object with
   * `warn(message)`, as waitress-proxy's `logger`. Default `console`.
   */
  readonly logger?: ProxyLogger;
}

/** The options as the reader uses them. */
export interface CompiledProxyProtocolOptions {
  readonly from: TrustMatcher;
  readonly timeout: number;
  readonly logger: ProxyLogger;
}

/** 5 seconds: far more than a load balancer needs to send ~100 bytes it writes at once. */
export const DEFAULT_TIMEOUT = 5000;

/** The largest delay Node's timers take (2^31 - 1 ms); above it they fire at once. */
const MAX_TIMEOUT = 2 ** 31 - 1;

const KNOWN_OPTIONS = new Set(['from', 'timeout', 'logger']);

/**
 * Validates and compiles the options. Throws a `WaitressProxyConfigError`
 * naming the option and saying what to write instead.
 */
export function compileProxyProtocolOptions(options: unknown): CompiledProxyProtocolOptions {
  if (typeof options !== 'object' || options === null) {
    throw configError(
      'options',
      `acceptProxyProtocol needs options: acceptProxyProtocol(server, { from: '10.0.0.0/8' }), ` +
        `with \`from\` naming the load balancers that send the PROXY header.`,
    );
  }
  for (const name of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(name)) {
      throw configError(
        name,
        `acceptProxyProtocol received an unsupported option, \`${name}\`. It takes \`from\`, \`timeout\` and \`logger\`.`,
      );
    }
  }
  const {
    from,
    timeout = DEFAULT_TIMEOUT,
    logger = console,
  } = options as { from?: unknown; timeout?: unknown; logger?: unknown };
  let matcher: TrustMatcher | undefined;
  try {
    matcher = compileTrust(from);
  } catch (error) {
    if (!(error instanceof WaitressProxyConfigError)) throw error;
    throw configError(
      'from',
      `acceptProxyProtocol: ${error.message.replace(/^waitress-proxy: /, '').replace(/trustedProxy/g, '`from`')}`,
    );
  }
  if (matcher === undefined) {
    throw configError(
      'from',
      `acceptProxyProtocol needs \`from\`: the load balancers that send the PROXY header, ` +
        `such as '10.0.0.0/8' or ['10.0.1.5', '10.0.2.5'] (the same syntax as trustedProxy).`,
    );
  }
  if (
    typeof timeout !== 'number' ||
    !Number.isFinite(timeout) ||
    timeout <= 0 ||
    timeout > MAX_TIMEOUT
  ) {
    throw configError(
      'timeout',
      `acceptProxyProtocol's \`timeout\` must be a number of milliseconds above 0 and at most ` +
        `${MAX_TIMEOUT}, received ${String(timeout)}. The default is ${DEFAULT_TIMEOUT}.`,
    );
  }
  if (
    typeof logger !== 'object' ||
    logger === null ||
    typeof (logger as { warn?: unknown }).warn !== 'function'
  ) {
    throw configError(
      'logger',
      `acceptProxyProtocol's \`logger\` must be an object with a warn(message) method, such as ` +
        `console or a pino logger.`,
    );
  }
  return { from: matcher, timeout, logger: logger as ProxyLogger };
}

function configError(option: string, message: string): WaitressProxyConfigError {
  return new WaitressProxyConfigError(option, message);
}
