/**
 * The trusted window of a comma-separated proxy header: its last N elements.
 *
 * Proxies append to `X-Forwarded-For`, `X-Forwarded-Host` and `Forwarded`,
 * so only the rightmost elements were written by proxies we trust; anything
 * further left came from the client or an untrusted hop. The window is read
 * from the right and the rest of the header is never parsed, so a client can
 * neither slow us down with 10,000 forged hops nor cause a 400 with a broken
 * value outside the window.
 *
 * Empty elements (`a,,b`, a trailing comma) are skipped, as RFC 7230 section 7
 * asks of a recipient of a `#list`; waitress counts them as hops.
 */

/** One element of the window. */
export interface ListElement {
  /** The element, trimmed of optional whitespace. */
  readonly text: string;
  /** Where the element starts in the header value (after its comma). */
  readonly start: number;
}

/**
 * The last `limit` non-empty elements of `value`, newest (rightmost) first.
 * Splits on every comma, as waitress does: a comma inside a quoted string is
 * not special, so such a value is refused later as badly quoted.
 */
export function lastElements(value: string, limit: number): ListElement[] {
  const elements: ListElement[] = [];
  let end = value.length;
  while (elements.length < limit && end >= 0) {
    const comma = end === 0 ? -1 : value.lastIndexOf(',', end - 1);
    const text = value.slice(comma + 1, end).trim();
    if (text !== '') elements.push({ text, start: comma + 1 });
    end = comma;
  }
  return elements;
}

/**
 * The header cut down to the window, from `start` to the end, trimmed, as
 * waitress 3.0.2 rewrites it so the app only sees values that were used.
 */
export function windowOf(value: string, start: number): string {
  return start === 0 ? value.trim() : value.slice(start).trim();
}
