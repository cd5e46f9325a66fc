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

/**
 * Walks a comma-separated header value from the right, one non-empty element
 * at a time, newest first: `while (reader.previous()) use(reader.text)`.
 * Splits on every comma, as waitress does: a comma inside a quoted string is
 * not special, so such a value is refused later as badly quoted. One reader
 * per header read and no object per element: most requests read one element
 * of one header.
 */
export class ListReader {
  /** The current element, trimmed of optional whitespace. */
  text = '';
  /** Where the current element starts in the value (after its comma). */
  start: number;
  private end: number;

  constructor(readonly value: string) {
    this.end = value.length;
    this.start = value.length;
  }

  /** Moves to the next older non-empty element; false when there is none. */
  previous(): boolean {
    const value = this.value;
    let end = this.end;
    while (end >= 0) {
      // Most values are one element (one proxy): indexOf, a fast builtin,
      // says so at once. Otherwise a scan rather than lastIndexOf, which V8
      // runs outside its fast builtins.
      let comma = end - 1;
      if (end === value.length && value.indexOf(',') === -1) comma = -1;
      while (comma >= 0 && value.charCodeAt(comma) !== 0x2c /* , */) comma--;
      const text = value.slice(comma + 1, end).trim();
      end = comma;
      if (text !== '') {
        this.end = end;
        this.text = text;
        this.start = comma + 1;
        return true;
      }
    }
    this.end = end;
    return false;
  }
}

/**
 * The header cut down to the window, from `start` to the end, trimmed, as
 * waitress 3.0.2 rewrites it so the app only sees values that were used.
 */
export function windowOf(value: string, start: number): string {
  return start === 0 ? value.trim() : value.slice(start).trim();
}
