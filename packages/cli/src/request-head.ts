/**
 * A raw HTTP/1.1 request head, as a capture or `curl -v` shows it (curl puts
 * `> ` before each line it sent), read into what Node would hand an app: the
 * target and the headers, names lower-cased, repeated lines joined with
 * `, ` except `Host`, of which Node keeps the first.
 */

export interface RequestHead {
  readonly url: string;
  readonly headers: Record<string, string>;
}

/** Reads `text`; throws an Error that says which line is wrong. */
export function parseRequestHead(text: string): RequestHead {
  const lines = text
    .split(/\r?\n/)
    .map((line) => (line.startsWith('> ') || line === '>' ? line.slice(2) : line));
  let at = 0;
  while (at < lines.length && lines[at]?.trim() === '') at++;
  const requestLine = lines[at] ?? '';
  const parts = requestLine.trim().split(/\s+/);
  if (parts.length !== 3 || !/^HTTP\/\d(\.\d)?$/.test(parts[2] ?? '')) {
    throw new Error(
      `the request head must start with a request line such as "GET /path HTTP/1.1", found ${JSON.stringify(requestLine)}`,
    );
  }
  const headers: Record<string, string> = {};
  for (const line of lines.slice(at + 1)) {
    if (line.trim() === '') break;
    addHeaderLine(headers, line);
  }
  return { url: parts[1] ?? '/', headers };
}

/** Adds `Name: value` to `headers` as Node's parser would; throws when it is not a header line. */
export function addHeaderLine(headers: Record<string, string>, line: string): void {
  const colon = line.indexOf(':');
  const name = line.slice(0, colon).toLowerCase();
  if (colon <= 0 || !/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) {
    throw new Error(`not a header line ("Name: value"): ${JSON.stringify(line)}`);
  }
  const value = line.slice(colon + 1).trim();
  const previous = headers[name];
  if (previous === undefined) headers[name] = value;
  else if (name !== 'host') headers[name] = `${previous}, ${value}`;
}
