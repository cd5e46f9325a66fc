/** `acceptProxyProtocol`'s options, validated and compiled once. */
import { compileTrust, WaitressProxyConfigError } from '@waitress-proxy/core';
import type { TrustedProxy, TrustMatcher } from '@waitress-proxy/core';

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
}

/** The options as the reader uses them. */
export interface CompiledProxyProtocolOptions {
  readonly from: TrustMatcher;
  readonly timeout: number;
}

/** 5 seconds: far more than a load balancer needs to send ~100 bytes it writes at once. */
export const DEFAULT_TIMEOUT = 5000;

/** The largest delay Node's timers take (2^31 - 1 ms); above it they fire at once. */
const MAX_TIMEOUT = 2 ** 31 - 1;

const KNOWN_OPTIONS = new Set(['from', 'timeout']);

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
        `acceptProxyProtocol received an unsupported option, \`${name}\`. It takes \`from\` and \`timeout\`.`,
      );
    }
  }
  const { from, timeout = DEFAULT_TIMEOUT } = options as { from?: unknown; timeout?: unknown };
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
  return { from: matcher, timeout };
}

function configError(option: string, message: string): WaitressProxyConfigError {
  return new WaitressProxyConfigError(option, message);
}
