/**
 * What a runner saw for one corpus case, and the single check every runner
 * uses, so the core, a plain Node server and each framework adapter are held
 * to the same expectations.
 */
import { PROXY_HEADERS } from './corpus.js';
import type { AdversarialCase, ExpectedView } from './corpus.js';

/** The answer to one case, as a runner saw it. */
export interface Observation {
  /** 200 when the app ran, else the status the server answered with. */
  readonly status: number;
  /** The error body on a 400 (the message the core or the adapter sent). */
  readonly body?: string;
  /** The view, as far as the runner can see it (an adapter may not expose every field). */
  readonly view?: Readonly<Partial<Record<keyof ExpectedView, unknown>>>;
  /** The request headers the app saw, lower-case names (joined as Node joins them). */
  readonly headers?: Readonly<Record<string, string | string[] | undefined>>;
  /** `req.rawHeaders` as the app saw it. */
  readonly rawHeaders?: readonly string[];
  /** `req.headersDistinct` as the app saw it. */
  readonly headersDistinct?: Readonly<Record<string, readonly string[]>>;
}

/** The port the app listens on, for the fields of the direct view. */
export interface RunContext {
  readonly localPort: number;
}

/**
 * The request headers Node builds from the header lines: names lower-cased,
 * repeated lines joined with `, `, except `host`, of which Node keeps the
 * first line (it drops repeats of the fields that cannot be lists). The
 * socket runners show Node doing this; the core runner needs it to feed the
 * core the same input.
 */
export function nodeHeaders(lines: readonly (readonly [string, string])[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of lines) {
    const lower = name.toLowerCase();
    const previous = headers[lower];
    if (previous === undefined) headers[lower] = value;
    else if (lower !== 'host') headers[lower] = `${previous}, ${value}`;
  }
  return headers;
}

/** The peer address the app must see when nothing is trusted. */
export function directClientAddress(c: AdversarialCase): string {
  return c.transport === 'unix' ? 'localhost' : c.peer;
}

/** Asserts that `seen` is the outcome `c` expects. */
export function expectObservation(
  c: AdversarialCase,
  seen: Observation,
  context: RunContext,
): void {
  const expected = c.expected;
  switch (expected.outcome) {
    case 'refused-by-node':
      expect(seen.status).toBe(expected.status);
      return;
    case 'too-many-headers':
      expect(seen.status).toBe(431);
      return;
    case 'host-not-allowed':
      expect({ status: seen.status, body: seen.body }).toEqual({
        status: 400,
        body: expect.stringContaining(
          `Host ${JSON.stringify(expected.host)} is not allowed.`,
        ) as unknown,
      });
      return;
    case 'malformed':
      expect({ status: seen.status, body: seen.body }).toEqual({
        status: 400,
        body: expect.stringContaining(`Header "${expected.header}" malformed.`) as unknown,
      });
      return;
    case 'used':
      expect(seen.status).toBe(200);
      expectNodeViewsAgree(seen);
      expectView(seen.view, expected.view);
      for (const [name, value] of Object.entries(expected.headers ?? {})) {
        expect([name, seen.headers?.[name]]).toEqual([name, value]);
      }
      return;
    case 'ignored': {
      if (expected.overNodeCap === true && seen.status === 431) return;
      expect(seen.status).toBe(200);
      expectNodeViewsAgree(seen);
      const sent = nodeHeaders(c.headers);
      expectView(seen.view, {
        clientAddress: directClientAddress(c),
        scheme: 'http',
        host: sent.host ?? '',
        port: context.localPort,
      });
      for (const name of PROXY_HEADERS) {
        // Cleared unless the case turns clearing off; then exactly what was sent.
        const value = expected.headersKept === true ? sent[name] : undefined;
        expect([name, seen.headers?.[name]]).toEqual([name, value]);
      }
      return;
    }
  }
}

/**
 * Node's views of the headers tell one story after the middleware: for every
 * proxy header and Host, `rawHeaders` has lines (anywhere, even past Node's
 * header-count cap) exactly when `headers` has the header, with the same
 * value, and `headersDistinct` (built lazily from `rawHeaders` and Node's
 * private line count) agrees with both.
 */
function expectNodeViewsAgree(seen: Observation): void {
  const { headers, rawHeaders, headersDistinct } = seen;
  if (headers === undefined || rawHeaders === undefined) return;
  for (const name of [...PROXY_HEADERS, 'host']) {
    const lines: string[] = [];
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      if (rawHeaders[i]?.toLowerCase() === name) lines.push(rawHeaders[i + 1] ?? '');
    }
    const value = headers[name];
    const joined = name === 'host' ? lines[0] : lines.length === 0 ? undefined : lines.join(', ');
    expect([name, 'rawHeaders', joined]).toEqual([name, 'rawHeaders', value]);
    if (headersDistinct !== undefined) {
      const distinct = headersDistinct[name];
      const distinctValue = name === 'host' ? distinct?.[0] : distinct?.join(', ');
      expect([name, 'headersDistinct', distinctValue]).toEqual([name, 'headersDistinct', value]);
    }
  }
}

/** Compares the fields the case names that the runner could see. */
function expectView(seen: Observation['view'], expected: ExpectedView): void {
  if (seen === undefined)
    throw new Error('the runner reported no view for a request that reached the app');
  const actual: Record<string, unknown> = {};
  const wanted: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(expected)) {
    if (!(field in seen)) continue;
    actual[field] = seen[field as keyof ExpectedView];
    wanted[field] = value;
  }
  expect(actual).toEqual(wanted);
}
