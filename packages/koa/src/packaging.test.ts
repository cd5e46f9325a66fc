/**
 * The built package as users install it: `require` and `import` through the
 * `exports` map (dist/ must be built: `npm test` builds it), each serving a
 * real Koa app over loopback in a child process. A consumer folder links the
 * package and Koa under node_modules, so resolution goes through package.json
 * exactly as in an app.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const packageDir = resolve(__dirname, '..');
let consumer: string;

beforeAll(() => {
  if (!existsSync(join(packageDir, 'dist/index.cjs'))) {
    throw new Error('packages/koa/dist is missing: run `pnpm run build` (npm test does it)');
  }
  consumer = mkdtempSync(join(tmpdir(), 'waitress-proxy-koa-consumer-'));
  mkdirSync(join(consumer, 'node_modules/@waitress-proxy'), { recursive: true });
  symlinkSync(packageDir, join(consumer, 'node_modules/@waitress-proxy/koa'), 'dir');
  symlinkSync(join(packageDir, 'node_modules/koa'), join(consumer, 'node_modules/koa'), 'dir');
});

afterAll(() => {
  rmSync(consumer, { recursive: true, force: true });
});

/** A program that loads Koa and the package with `load`, and prints what one request saw. */
const program = (load: string) => `
${load}
const http = require('node:http');
const app = new Koa();
app.use(adapter.waitressProxy({ trustedProxy: '127.0.0.2', trustedProxyHeaders: 'x-forwarded-for x-forwarded-proto', logger: { warn() {} } }));
app.use((ctx) => { ctx.body = { ip: ctx.ip, protocol: ctx.protocol, view: ctx.state.forwarded.clientAddress }; });
const server = app.listen(0, '127.0.0.1', () => {
  const request = http.request(
    { host: '127.0.0.1', port: server.address().port, localAddress: '127.0.0.2', path: '/', agent: false,
      headers: { 'X-Forwarded-For': '192.0.2.9', 'X-Forwarded-Proto': 'https', Connection: 'close' } },
    (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => {
        server.close();
        console.log(JSON.stringify({
          seen: JSON.parse(body),
          defaultIsNamed: adapter.default === adapter.waitressProxy,
          exports: Object.keys(adapter).sort(),
        }));
      });
    },
  );
  request.end();
});
`;

function runConsumer(file: string, source: string): unknown {
  writeFileSync(join(consumer, file), source);
  const output = execFileSync(process.execPath, [join(consumer, file)], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  return JSON.parse(output);
}

const expected = {
  seen: { ip: '192.0.2.9', protocol: 'https', view: '192.0.2.9' },
  defaultIsNamed: true,
  exports: [
    'HostNotAllowedError',
    'MalformedProxyHeaderError',
    'MalformedRequestTargetError',
    'TooManyHeadersError',
    'TrustedRangesUnavailableError',
    'WaitressProxyConfigError',
    'default',
    'waitressProxy',
  ],
};

describe('@waitress-proxy/koa as installed', () => {
  it('serves a Koa app from CommonJS (require)', () => {
    const load = "const Koa = require('koa'); const adapter = require('@waitress-proxy/koa');";
    expect(runConsumer('app.cjs', program(load))).toEqual(expected);
  });

  it('serves a Koa app from ESM (import)', () => {
    const load = [
      "import { createRequire } from 'node:module';",
      'const require = createRequire(import.meta.url);',
      "import Koa from 'koa';",
      "import * as adapter from '@waitress-proxy/koa';",
    ].join('\n');
    expect(runConsumer('app.mjs', program(load))).toEqual(expected);
  });
});
