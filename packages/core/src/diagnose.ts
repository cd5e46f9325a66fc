/**
 * The `explain` and `diagnose` options: what `resolve` does instead when
 * either is on. Each request then goes through `explain` (the same rules,
 * with a trace), its warnings are logged as `resolve` would log them, and:
 * `explain` writes the formatted explanation (or hands it to a function);
 * `diagnose` warns, once for each distinct peer and set of proxy headers,
 * where the traffic and the configuration disagree.
 */
import { explain, formatExplanation } from './explain.js';
import type { Explanation } from './explain.js';
import type { CompiledOptions, ProxyLogger } from './options.js';
import type { RequestInput, Resolution } from './resolve.js';
import { compileTrust } from './trust.js';

/** How many distinct peer-and-headers combinations `diagnose` remembers before it goes silent. */
export const DIAGNOSED_COMBINATIONS = 100;

/** Peers that look like a proxy of the app's own: loopback, private, link-local, a Unix socket. */
const looksLikeAProxy = compileTrust('loopback linklocal uniquelocal localhost');

/** The combinations seen, per compiled options. */
const seen = new WeakMap<CompiledOptions, Set<string>>();

/** `resolve` with `explain` or `diagnose` on. */
export function resolveObserved(
  options: CompiledOptions,
  input: RequestInput,
  logger: ProxyLogger,
): Resolution {
  const explanation = explain(options, input);
  for (const warning of explanation.warnings) logger.warn(warning);
  if (typeof options.explain === 'function') {
    options.explain(explanation);
  } else if (options.explain) {
    const text = `waitress-proxy: ${formatExplanation(explanation).replace(/\n/g, '\n  ')}`;
    if (typeof logger.debug === 'function') logger.debug(text);
    else logger.warn(text);
  }
  if (options.diagnose) {
    for (const warning of diagnosis(options, explanation)) logger.warn(warning);
  }
  return explanation.resolution;
}

/**
 * The warnings for a combination not seen before; none for one seen, and
 * none once `DIAGNOSED_COMBINATIONS` have been seen (bounded memory).
 */
export function diagnosis(options: CompiledOptions, explanation: Explanation): string[] {
  const { peer, headers } = explanation;
  let combinations = seen.get(options);
  if (combinations === undefined) {
    combinations = new Set();
    seen.set(options, combinations);
  }
  const key = `${peer.compared} ${headers.map((step) => step.header).join(',')}`;
  if (combinations.has(key) || combinations.size >= DIAGNOSED_COMBINATIONS) return [];
  combinations.add(key);

  const warnings: string[] = [];
  const advise = (text: string) => warnings.push(`waitress-proxy: diagnose: ${text}`);
  if (!peer.trusted) {
    // Any client on the internet may forge headers; a peer on the app's own
    // network that sends them is more likely the proxy the user meant.
    if (headers.length > 0 && looksLikeAProxy?.(peer.compared) === true) {
      advise(explanation.advice[0] ?? `${peer.compared} sent proxy headers but is not trusted.`);
    }
    return warnings;
  }
  for (const advice of explanation.advice) advise(advice);
  const forwardedFor = headers.find((step) => step.header === 'X-Forwarded-For');
  const count = options.trustedProxyCount;
  if (forwardedFor?.outcome === 'used' && count > 1 && Number.isFinite(count)) {
    const entries = forwardedFor.value.split(',').filter((entry) => entry.trim() !== '').length;
    if (entries < count) {
      advise(
        `X-Forwarded-For from ${peer.compared} has ${entries} entr${entries === 1 ? 'y' : 'ies'}, ` +
          `fewer than trustedProxyCount ${count}: if ${entries === 1 ? 'one proxy appends' : `${entries} proxies append`} ` +
          `to it, set trustedProxyCount to ${entries}, or entries a client forged fall inside the window.`,
      );
    }
  }
  return warnings;
}
