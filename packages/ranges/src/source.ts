/**
 * A range source: a list loaded now and refreshed in the background, asked
 * per request through `contains`. Each accepted list is compiled once by the
 * core's own `compileTrust` (the matcher a static `trustedProxy` list gets),
 * and the compiled matcher is swapped in one assignment, so a request sees
 * either the old list or the new one, never a mix, and pays what a static
 * list of the same size costs.
 */
import { compileTrust } from '@waitress-proxy/core';
import type { TrustedProxySource, TrustMatcher } from '@waitress-proxy/core';
import { checkRanges } from './cidr.js';
import type { RangeLimits } from './cidr.js';
import { RangeLoadError } from './errors.js';

/** Where a source warns: `console` by default, or a pino or Fastify logger. */
export interface RangesLogger {
  /** A failed first load (nothing is trusted through the source) or refresh (the last good list is kept). */
  warn(message: string): void;
}

/**
 * A {@link TrustedProxySource} built by this package: a published list of
 * ranges, loaded at creation and refreshed every `refreshInterval`.
 */
export interface RangeSource extends TrustedProxySource {
  /** A name for messages: the preset and its URL, or the file. */
  readonly name: string;
  /**
   * Whether `address` is in the last good list; false until the first load
   * succeeded. `address` is as the core normalizes it (IPv4-mapped IPv6
   * unwrapped, IPv6 canonical).
   */
  contains(address: string): boolean;
  /** Resolves once the first load succeeded; rejects with a `RangeLoadError` when it failed. */
  ready(): Promise<void>;
  /** The ranges in use, normalized (`104.16.0.0/13`); empty before the first load. */
  ranges(): readonly string[];
}

/** What a source is built from, after the options were checked. */
export interface SourceSettings {
  readonly name: string;
  /** Reads the list and returns its entries, unchecked; `refresh`: not the first load. */
  readonly load: (signal: AbortSignal | undefined, refresh: boolean) => Promise<Iterable<unknown>>;
  readonly limits: RangeLimits;
  /** ms between the end of one load and the start of the next; Infinity: never. */
  readonly refreshInterval: number;
  readonly logger: RangesLogger;
  readonly signal: AbortSignal | undefined;
}

const trustNothing: TrustMatcher = () => false;

/** Builds a source and starts its first load. */
export function createSource(settings: SourceSettings): RangeSource {
  const { name, limits, logger, signal } = settings;
  let matcher = trustNothing;
  let current: readonly string[] = [];

  const loadOnce = async (refresh: boolean): Promise<void> => {
    let ranges: string[];
    try {
      ranges = checkRanges(await settings.load(signal, refresh), limits, name);
    } catch (error) {
      if (error instanceof RangeLoadError) throw error;
      // Anything else came from a format function refusing the body (a
      // JSON.parse of an HTML page): a malformed list.
      throw new RangeLoadError(
        'WAITRESS_PROXY_RANGES_MALFORMED',
        `${name}: the format refused the body: ${messageOf(error)}; the whole list is refused.`,
        { cause: error },
      );
    }
    // Every entry was checked to be an address or a CIDR range with a
    // decimal prefix, which compileTrust reads the same way; anything it
    // still refused would be a bug here, and is a refused list, not a crash.
    let compiled: TrustMatcher | undefined;
    try {
      compiled = compileTrust(ranges);
    } catch (error) {
      throw new RangeLoadError(
        'WAITRESS_PROXY_RANGES_MALFORMED',
        `${name}: the list could not be compiled: ${messageOf(error)}`,
        { cause: error },
      );
    }
    if (compiled === undefined) {
      throw new RangeLoadError('WAITRESS_PROXY_RANGES_REFUSED', `${name}: the list is empty.`);
    }
    // A list that lost more than half its ranges is accepted (providers do
    // withdraw ranges) but said aloud: it may also be a list cut short.
    if (current.length >= 4 && ranges.length * 2 < current.length) {
      logger.warn(
        `waitress-proxy ranges: ${name} shrank from ${current.length} to ${ranges.length} ranges; ` +
          `the new list is in use (check that the provider really withdrew them).`,
      );
    }
    current = Object.freeze(ranges);
    matcher = compiled;
  };

  const schedule = () => {
    if (signal?.aborted === true || settings.refreshInterval === Infinity) return;
    // A refresh never keeps the process alive.
    setTimeout(refresh, settings.refreshInterval).unref();
  };

  // A timer set before the signal was aborted still fires once, and stops
  // here: no listener stays on a signal that many sources may share.
  const refresh = () => {
    if (signal?.aborted === true) return;
    loadOnce(true).then(schedule, (error: unknown) => {
      if (signal?.aborted !== true) {
        logger.warn(
          `waitress-proxy ranges: refreshing ${name} failed; keeping the last good list ` +
            `(${current.length} ranges): ${messageOf(error)}`,
        );
      }
      schedule();
    });
  };

  const ready = loadOnce(false).then(schedule, (error: unknown) => {
    const failure =
      error instanceof RangeLoadError
        ? error
        : new RangeLoadError('WAITRESS_PROXY_RANGES_FETCH_FAILED', `${name}: ${messageOf(error)}`, {
            cause: error,
          });
    logger.warn(
      `waitress-proxy ranges: the first load of ${name} failed; nothing is trusted through it ` +
        `and it is not retried (restart once the list is reachable): ${failure.message}`,
    );
    throw failure;
  });
  // The rejection belongs to whoever awaits ready() (the adapters do); this
  // keeps an unobserved one from crashing the process as unhandled.
  ready.catch(() => undefined);

  return {
    name,
    contains: (address) => matcher(address),
    ready: () => ready,
    ranges: () => current,
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
