/**
 * Every row of the conformance matrix through the core's `explain`: its
 * resolution is exactly `resolve`'s, whatever the row (issue 17). The rows'
 * header lines become the headers Node would build; the ports are fixed.
 */
import { compileOptions, explain, formatExplanation, resolve } from '@waitress-proxy/core';
import type { RequestInput } from '@waitress-proxy/core';
import { CASES } from './cases.js';
import { withHost } from './client.js';

/** Header lines as Node joins them: repeated lines with `, `, Host's first kept. */
function headersOf(lines: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    const previous = headers[name];
    if (previous === undefined) headers[name] = value;
    else if (name !== 'host') headers[name] = `${previous}, ${value}`;
  }
  return headers;
}

describe('conformance rows through explain', () => {
  it.each(CASES.map((row) => [row.name, row] as const))('%s', (_name, row) => {
    const options = compileOptions({ ...row.options, logger: { warn: () => undefined } });
    const input: RequestInput = {
      peerAddress: row.peer,
      peerPort: 50000,
      localPort: 8080,
      encrypted: false,
      headers: headersOf(withHost(row.headers ?? [])),
      url: row.path ?? '/',
    };
    const explanation = explain(options, input);
    expect(explanation.resolution).toEqual(resolve(options, input));
    expect(formatExplanation(explanation)).toMatch(/^peer /);
  });
});
