/**
 * RFC 7230 section 3.2.6 quoted strings, as waitress's `undquote` reads them,
 * with a linear scan instead of a regular expression:
 *
 * - a value that starts and ends with `"` must be one whole quoted-string;
 *   its quotes are removed and each quoted-pair (`\` + char) becomes the char;
 * - a value that neither starts nor ends with `"` is returned unchanged;
 * - anything else (`"foo`, `foo"`, `"a"b"`, a lone `"`) is invalid quoting.
 */

/**
 * Unquotes `value`, or returns undefined when its quoting is invalid.
 * Allocates only when the value was quoted.
 */
export function unquote(value: string): string | undefined {
  const length = value.length;
  if (length === 0) return value;
  const startsQuoted = value.charCodeAt(0) === 0x22;
  const endsQuoted = value.charCodeAt(length - 1) === 0x22;
  if (!startsQuoted && !endsQuoted) return value;
  if (!startsQuoted || !endsQuoted || length < 2) return undefined;

  let result = '';
  let runStart = 1;
  const end = length - 1;
  for (let i = 1; i < end; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x5c /* \ */) {
      // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
      const next = i + 1 < end ? value.charCodeAt(i + 1) : -1;
      if (!isQuotedPairChar(next)) return undefined;
      result += value.slice(runStart, i);
      runStart = i + 1;
      i++;
    } else if (!isQdtext(c)) {
      return undefined;
    }
  }
  return result + value.slice(runStart, end);
}

/** qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text */
function isQdtext(c: number): boolean {
  return (
    c === 0x09 ||
    c === 0x20 ||
    c === 0x21 ||
    (c >= 0x23 && c <= 0x5b) ||
    (c >= 0x5d && c <= 0x7e) ||
    (c >= 0x80 && c <= 0xff)
  );
}

/** The char after `\`: HTAB / SP / VCHAR / obs-text */
function isQuotedPairChar(c: number): boolean {
  return c === 0x09 || (c >= 0x20 && c <= 0x7e) || (c >= 0x80 && c <= 0xff);
}
