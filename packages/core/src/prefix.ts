/**
 * `X-Forwarded-Prefix`: the path prefix a proxy stripped before passing the
 * request on (Traefik's StripPrefix, Spring's and ASP.NET Core's
 * `ForwardedHeaders`), so the app can build links under it. A prefix ends up
 * in every link and redirect the app writes, so only a plain absolute path is
 * taken: anything that could turn a link into another site (`//evil.com`), a
 * different path (`/a/../b`, `%2F`, `\`) or a header injection is refused.
 */

/** Why a prefix was refused, for the malformed-header log line. */
export const INVALID_PREFIX =
  'not a path of one leading "/" and RFC 3986 segments (no "." or ".." segment, no "//", ' +
  'no "\\", no encoded "/", "\\" or ".", at most 1,024 characters)';

/** The longest prefix taken. */
export const MAX_PREFIX_LENGTH = 1024;

/**
 * RFC 3986 `pchar` without `%` (checked with what follows it): unreserved,
 * sub-delims, `:` and `@`, by char code.
 */
const PCHAR = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@") {
  PCHAR[c.charCodeAt(0)] = 1;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/**
 * The prefix `text` stands for: `/app` for `/app` or `/app/`, `''` for `/`;
 * undefined when it is not a plain absolute path (see the file comment).
 */
export function forwardedPrefixOf(text: string): string | undefined {
  if (text.length > MAX_PREFIX_LENGTH || text.charCodeAt(0) !== 0x2f /* / */) return undefined;
  // One trailing slash is normalized away; `/` alone is no prefix.
  const path = text.length > 1 && text.endsWith('/') ? text.slice(0, -1) : text;
  if (path === '/') return '';
  let segmentStart = 1;
  for (let i = 1; i <= path.length; i++) {
    const c = i === path.length ? 0x2f : path.charCodeAt(i);
    if (c === 0x2f /* / */) {
      const segment = path.slice(segmentStart, i);
      // An empty segment is `//` (or a second trailing slash); `.` and `..`
      // move the path.
      if (segment === '' || segment === '.' || segment === '..') return undefined;
      segmentStart = i + 1;
      continue;
    }
    if (c === 0x25 /* % */) {
      const high = path.charCodeAt(i + 1);
      const low = path.charCodeAt(i + 2);
      if (!isHex(high) || !isHex(low)) return undefined;
      const byte = parseInt(path.slice(i + 1, i + 3), 16);
      // An encoded `/`, `\` or `.` would be a separator or a dot segment to
      // whoever decodes the link; an encoded control character is one too.
      if (byte === 0x2f || byte === 0x5c || byte === 0x2e || byte < 0x20 || byte === 0x7f) {
        return undefined;
      }
      i += 2;
      continue;
    }
    if (c >= 128 || PCHAR[c] !== 1) return undefined;
  }
  return path;
}
