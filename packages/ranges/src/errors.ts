/**
 * Why a load of a range list failed. A failed first load rejects the
 * source's `ready()` with it (the adapters answer 503, Fastify refuses to
 * start); a failed refresh is logged and the last good list stays.
 */

/** Stable codes, so callers can branch without parsing messages. */
export type RangeLoadErrorCode =
  /** The list could not be read: network error, HTTP status, timeout, redirect elsewhere, too big. */
  | 'WAITRESS_PROXY_RANGES_FETCH_FAILED'
  /** The list was read but is not in its format (HTML instead of CIDRs, bad JSON, a bad entry). */
  | 'WAITRESS_PROXY_RANGES_MALFORMED'
  /** The list is well formed but not believable: empty, a range too wide, too many ranges. */
  | 'WAITRESS_PROXY_RANGES_REFUSED';

/**
 * A range list that could not be loaded or was refused. The message names
 * the source and says why, with at most a short, quoted excerpt of a bad
 * entry: it is meant for logs.
 */
export class RangeLoadError extends Error {
  /** Stable, for branching without parsing the message: why the load failed. */
  readonly code: RangeLoadErrorCode;

  constructor(code: RangeLoadErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RangeLoadError';
    this.code = code;
  }
}

/** `text` quoted and cut to a length that is safe to log. */
export function excerpt(text: string, max = 60): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}
