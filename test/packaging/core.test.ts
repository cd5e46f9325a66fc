/**
 * The built package as users install it: `require` and `import` through the
 * `exports` map of packages/core (dist/ must be built: `npm test` builds it).
 * A consumer folder links the package under node_modules, so resolution goes
 * through package.json exactly as in an app.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const packageDir = resolve(__dirname, '../../packages/core');
let consumer: string;

beforeAll(() => {
  if (!existsSync(join(packageDir, 'dist/index.cjs'))) {
    throw new Error('packages/core/dist is missing: run `pnpm run build` (npm test does it)');
  }
  consumer = mkdtempSync(join(tmpdir(), 'waitress-proxy-consumer-'));
  mkdirSync(join(consumer, 'node_modules/@waitress-proxy'), { recursive: true });
  symlinkSync(packageDir, join(consumer, 'node_modules/@waitress-proxy/core'), 'dir');
});

afterAll(() => {
  rmSync(consumer, { recursive: true, force: true });
});

const program = (load: string) => `
${load}
const compiled = core.compileOptions({ trustedProxy: '127.0.0.1', trustedProxyHeaders: 'x-forwarded-for x-forwarded-proto', logger: { warn() {} } });
const result = core.resolve(compiled, { peerAddress: '::ffff:127.0.0.1', peerPort: 1, localPort: 3000, encrypted: false, headers: { 'x-forwarded-for': '6.6.6.6, 192.0.2.1', 'x-forwarded-proto': 'https' }, url: '/' });
let configError;
try { core.compileOptions({ trustedProxyCount: 2 }); } catch (error) { configError = error instanceof core.WaitressProxyConfigError; }
console.log(JSON.stringify({ client: result.view.clientAddress, scheme: result.view.scheme, configError, exports: Object.keys(core).sort() }));
`;

function runConsumer(file: string, source: string): unknown {
  writeFileSync(join(consumer, file), source);
  return JSON.parse(execFileSync(process.execPath, [join(consumer, file)], { encoding: 'utf8' }));
}

const expected = {
  client: '192.0.2.1',
  scheme: 'https',
  configError: true,
  exports: [
    'DIAGNOSED_COMBINATIONS',
    'HostNotAllowedError',
    'MalformedProxyHeaderError',
    'MalformedRequestTargetError',
    'PROXY_HEADER_NAMES',
    'PROXY_PROTOCOL_PEER',
    'TooManyHeadersError',
    'TrustedRangesUnavailableError',
    'WaitressProxyConfigError',
    'applyHeaderChanges',
    'compileOptions',
    'compileTrust',
    'explain',
    'formatExplanation',
    'optionsFromEnv',
    'optionsFromStrings',
    'originForm',
    'requestInput',
    'resolve',
    'routeUrl',
    'trustGate',
    'trustSourcesReady',
  ],
};

describe('@waitress-proxy/core as installed', () => {
  it('works from CommonJS (require)', () => {
    expect(
      runConsumer('app.cjs', program("const core = require('@waitress-proxy/core');")),
    ).toEqual(expected);
  });

  it('works from ESM (import)', () => {
    expect(
      runConsumer('app.mjs', program("import * as core from '@waitress-proxy/core';")),
    ).toEqual(expected);
  });
});
