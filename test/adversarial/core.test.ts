/**
 * The adversarial corpus through the core alone: compile, resolve, apply the
 * header changes, as an adapter does. The input is what Node would hand an
 * adapter for the case's header lines (see `nodeHeaders`); the cases Node's
 * parser refuses never reach any middleware and are played over sockets in
 * node-http.test.ts.
 */
import { applyHeaderChanges, compileOptions, explain, resolve } from '@waitress-proxy/core';
import type { ProxyLogger, RequestInput } from '@waitress-proxy/core';
import { CORPUS, NODE_MAX_HEADER_LINES, PROXY_HEADERS } from './corpus.js';
import type { AdversarialCase } from './corpus.js';
import { expectObservation, nodeHeaders } from './observe.js';
import type { Observation } from './observe.js';

const LOCAL_PORT = 8080;
const silent: ProxyLogger = { warn: () => undefined };

/**
 * What Node would hand an adapter for the case. Node's cap: `headers` from
 * the first lines only, `rawHeaders` (here) all of them, as the socket
 * runners show Node doing for the lines that count.
 */
function coreInput(c: AdversarialCase, localPort: number) {
  const headers: Record<string, string | string[] | undefined> = nodeHeaders(
    c.headers.slice(0, NODE_MAX_HEADER_LINES),
  );
  const peerAddress =
    c.transport === 'unix'
      ? undefined
      : c.transport === 'ipv4-mapped'
        ? `::ffff:${c.peer}`
        : c.peer;
  return {
    peerAddress,
    peerPort: 50000,
    localPort,
    encrypted: false,
    headers,
    url: '/',
    headersTruncated: c.headers.length >= NODE_MAX_HEADER_LINES,
  } satisfies RequestInput;
}

/** Runs one case through the core the way an adapter would. */
export function observeCore(c: AdversarialCase, localPort = LOCAL_PORT): Observation {
  const options = compileOptions({ ...c.options, logger: silent });
  const input = coreInput(c, localPort);
  const { headers } = input;
  const rawHeaders = c.headers.flat();
  const result = resolve(options, input);
  if (!result.ok) return { status: result.error.statusCode, body: result.error.message };
  applyHeaderChanges({ headers, rawHeaders }, result.headerChanges);
  // rawHeaders must tell the same story as headers for every proxy header.
  for (const name of [...PROXY_HEADERS, 'host']) {
    const lines = rawHeaders.filter((_, i) => i % 2 === 0 && rawHeaders[i]?.toLowerCase() === name);
    if ((headers[name] === undefined) !== (lines.length === 0)) {
      throw new Error(`rawHeaders and headers disagree on ${name}`);
    }
  }
  return { status: 200, view: result.view, headers };
}

const reachable = CORPUS.filter((c) => c.expected.outcome !== 'refused-by-node');

describe('adversarial corpus through the core', () => {
  it('has at least 60 named cases, each name unique', () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(60);
    expect(new Set(CORPUS.map((c) => c.name)).size).toBe(CORPUS.length);
  });

  it.each(reachable.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expectObservation(c, observeCore(c), { localPort: LOCAL_PORT });
  });

  it.each(reachable.map((c) => [c.name, c] as const))(
    'explain gives what resolve gives: %s',
    (_name, c) => {
      const options = compileOptions({ ...c.options, logger: silent });
      const input = coreInput(c, LOCAL_PORT);
      expect(explain(options, input).resolution).toEqual(resolve(options, input));
    },
  );
});
