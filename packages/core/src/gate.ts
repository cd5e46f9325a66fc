/**
 * Waiting for `trustedProxy` range sources (`@waitress-proxy/ranges`) to load
 * before the app gives trusted answers. Fastify's registration awaits it; the
 * Express and Koa middleware hold the requests that arrive earlier, and answer
 * 503 when the first load failed.
 */
import { TrustedRangesUnavailableError } from './errors.js';
import type { CompiledOptions } from './options.js';
import type { TrustedProxySource } from './trust.js';

/** Whether the range sources have loaded, as a flag to test per request. */
export interface TrustGate {
  /** True once every source's first load succeeded. */
  readonly open: boolean;
  /** Set once a source's first load failed: the error to answer with (503). */
  readonly failure: TrustedRangesUnavailableError | undefined;
  /** Settles when `open` or `failure` is set; never rejects. */
  readonly settled: Promise<void>;
}

/**
 * The gate for `options`' range sources, or undefined when `trustedProxy`
 * has none (there is nothing to wait for). Asks each source's `ready()`
 * once, now.
 */
export function trustGate(options: CompiledOptions): TrustGate | undefined {
  const sources = options.trustSources;
  if (sources.length === 0) return undefined;
  const gate: { open: boolean; failure: TrustedRangesUnavailableError | undefined } = {
    open: false,
    failure: undefined,
  };
  const settled = allReady(sources).then(
    () => {
      gate.open = true;
    },
    (error: unknown) => {
      gate.failure = new TrustedRangesUnavailableError(error);
    },
  );
  return {
    get open() {
      return gate.open;
    },
    get failure() {
      return gate.failure;
    },
    settled,
  };
}

/** Resolves when every source has loaded; rejects with the first failure. */
export function trustSourcesReady(options: CompiledOptions): Promise<void> {
  return allReady(options.trustSources);
}

async function allReady(sources: readonly TrustedProxySource[]): Promise<void> {
  await Promise.all(sources.map((source) => source.ready()));
}
