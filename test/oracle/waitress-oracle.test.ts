/**
 * The differential test: thousands of generated requests through waitress's
 * own proxy_headers middleware (waitress_oracle.py, one Python process) and
 * through the core, compared on outcome (200/400, and the header a 400
 * names), client address and port, scheme, host, hostname, port and the
 * proxy headers the app is left with. Every difference must be one that
 * differences.ts allows, by an id documented in
 * docs/differences-from-waitress.md.
 *
 * Without python3-waitress the test says it was skipped and why; on CI
 * (`CI=true`) a missing oracle is a failure.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import {
  applyHeaderChanges,
  compileOptions,
  MalformedProxyHeaderError,
  resolve,
} from '@waitress-proxy/core';
import { generateCases } from './cases.js';
import { ALLOWED, FIELDS, explain, fieldsOf } from './differences.js';
import type { CoreResult, DifferenceId, OracleCase, WaitressResult } from './differences.js';
import { findPython } from './python.js';

const CASES = 4000;
const ROOT = join(__dirname, '..', '..');
const SCRIPT = join(__dirname, 'waitress_oracle.py');
const PROXY_HEADERS = [
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-forwarded-by',
  'forwarded',
];

function runWaitress(python: string, cases: readonly OracleCase[]) {
  const run = spawnSync(python, [SCRIPT], {
    input: JSON.stringify(cases),
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`waitress_oracle.py failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as { waitress: string; results: WaitressResult[] };
}

function wsgiKey(name: string): string {
  return `HTTP_${name.toUpperCase().replace(/-/g, '_')}`;
}

function runCore(c: OracleCase): CoreResult {
  const options = compileOptions({
    trustedProxy: c.trustedProxy,
    trustedProxyCount: c.trustedProxyCount,
    trustedProxyHeaders: c.trustedProxyHeaders,
    clearUntrustedProxyHeaders: c.clearUntrusted,
    logger: { warn: () => undefined },
  });
  const headers: Record<string, string | string[] | undefined> = {};
  for (const [name, value] of Object.entries(c.headers)) headers[name.toLowerCase()] = value;
  const result = resolve(options, {
    peerAddress: c.peer ?? undefined,
    peerPort: c.peerPort,
    localPort: c.localPort,
    encrypted: false,
    headers,
    url: '/',
  });
  if (!result.ok) {
    if (!(result.error instanceof MalformedProxyHeaderError)) throw result.error;
    const { header, reason, value } = result.error;
    return { status: 400, malformed: { header, reason, value } };
  }
  applyHeaderChanges({ headers, rawHeaders: [] }, result.headerChanges);
  const { view } = result;
  const proxyHeaders: Record<string, string | undefined> = {};
  for (const name of PROXY_HEADERS) {
    const value = headers[name];
    proxyHeaders[wsgiKey(name)] = Array.isArray(value) ? value.join(', ') : value;
  }
  return {
    status: 200,
    clientAddress: view.clientAddress,
    clientPort: view.clientPort === undefined ? undefined : String(view.clientPort),
    scheme: view.scheme,
    host: view.host,
    hostname: view.hostname,
    port: String(view.port),
    proxyHeaders,
  };
}

const oracle = findPython('waitress.proxy_headers');
const why = `python3-waitress is not installed (import waitress.proxy_headers failed: ${oracle.tried.join('; ')})`;

describe('differential test against waitress', () => {
  it('reads its allowed differences from ids that docs/differences-from-waitress.md defines', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'differences-from-waitress.md'), 'utf8').replace(
      /\s+/g,
      ' ',
    );
    for (const [id, description] of Object.entries(ALLOWED)) {
      const documented = id.startsWith('D') ? doc.includes(`**${id}.`) : doc.includes(description);
      expect([id, documented]).toEqual([id, true]);
    }
  });

  if (oracle.python === undefined) {
    if (process.env.CI === 'true') {
      it('has the waitress oracle on CI', () => {
        throw new Error(`${why}. CI installs python3-waitress: see .ci/run.`);
      });
    } else {
      console.warn(`waitress differential test skipped: ${why}.`);
      it.skip(`against waitress: skipped, ${why}`, () => undefined);
    }
    return;
  }
  const python = oracle.python;

  it(`agrees with waitress on ${CASES} generated requests, except documented differences`, () => {
    const cases = generateCases(CASES);
    const { waitress: version, results } = runWaitress(python, cases);
    expect(results).toHaveLength(cases.length);

    const byId = new Map<DifferenceId, number>();
    const unexplained: string[] = [];
    let accepted = 0;
    let refused = 0;
    cases.forEach((c, index) => {
      const theirs = results[index]!;
      const ours = runCore(c);
      if (ours.status === 200 && theirs.status === 200) accepted++;
      if (ours.status === 400 && theirs.status === 400) refused++;
      const fields = fieldsOf(ours, theirs);
      const ids = new Set<DifferenceId>();
      for (const field of FIELDS) {
        const [core, waitress] = fields[field];
        if (isDeepStrictEqual(core, waitress)) continue;
        const id = explain(field, c, ours, theirs);
        if (id === undefined) {
          unexplained.push(
            `#${index} ${field}: core ${JSON.stringify(core)} waitress ${JSON.stringify(waitress)}\n` +
              `  case ${JSON.stringify(c)}\n  core ${JSON.stringify(ours)}\n  waitress ${JSON.stringify(theirs)}`,
          );
        } else {
          ids.add(id);
        }
      }
      for (const id of ids) byId.set(id, (byId.get(id) ?? 0) + 1);
    });

    const summary = [...byId.entries()]
      .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
      .map(([id, count]) => `${id}: ${count}`)
      .join(', ');
    console.log(
      `waitress ${version} (${python}): ${cases.length} cases, both 200: ${accepted}, ` +
        `both 400: ${refused}; cases with allowed differences by id: ${summary}; ` +
        `unexplained: ${unexplained.length}`,
    );
    // Enough requests reach the app on both sides for the values to be compared.
    expect(accepted).toBeGreaterThan(cases.length / 4);
    if (process.env.ORACLE_DUMP) console.log(unexplained.join('\n'));
    expect(unexplained.slice(0, 5)).toEqual([]);
  });
});
