/**
 * The built package as users install it (dist/ must be built: `npm test`
 * builds it): `require` gets the plugin itself as module.exports, with
 * `default`, `waitressProxy` and the other exports as its properties, as
 * Fastify's official plugins ship; `import` gets the default and named
 * exports. Each style registers the plugin in a real Fastify app in a child
 * process and serves one request over loopback. A consumer folder links the
 * package and Fastify under node_modules, so resolution goes through
 * package.json exactly as in an app.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const packageDir = resolve(__dirname, '..');
let consumer: string;

beforeAll(() => {
  if (!existsSync(join(packageDir, 'dist/index.cjs'))) {
    throw new Error('packages/fastify/dist is missing: run `pnpm run build` (npm test does it)');
  }
  consumer = mkdtempSync(join(tmpdir(), 'waitress-proxy-fastify-consumer-'));
  mkdirSync(join(consumer, 'node_modules/@waitress-proxy'), { recursive: true });
  symlinkSync(packageDir, join(consumer, 'node_modules/@waitress-proxy/fastify'), 'dir');
  symlinkSync(
    join(packageDir, 'node_modules/fastify'),
    join(consumer, 'node_modules/fastify'),
    'dir',
  );
});

afterAll(() => {
  rmSync(consumer, { recursive: true, force: true });
});

/**
 * A program that has `Fastify`, `plugin` (what the consumer registers) and
 * `shape` (facts about the module) from `load`, and prints what one request
 * from the trusted 127.0.0.2 saw.
 */
const program = (load: string) => `
${load}
const http = require('node:http');
(async () => {
  const app = Fastify();
  await app.register(plugin, { trustedProxy: '127.0.0.2', trustedProxyHeaders: 'x-forwarded-for x-forwarded-proto', logger: { warn() {} } });
  app.get('/', (request) => ({ ip: request.ip, protocol: request.protocol, view: request.forwarded.clientAddress }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const seen = await new Promise((resolve, reject) => {
    const request = http.request(
      { host: '127.0.0.1', port: app.server.address().port, localAddress: '127.0.0.2', path: '/', agent: false,
        headers: { 'X-Forwarded-For': '192.0.2.9', 'X-Forwarded-Proto': 'https', Connection: 'close' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => { body += chunk; });
        res.on('end', () => resolve(JSON.parse(body)));
      },
    );
    request.on('error', reject);
    request.end();
  });
  await app.close();
  console.log(JSON.stringify({ seen, shape }));
})();
`;

function runConsumer(file: string, source: string): unknown {
  writeFileSync(join(consumer, file), source);
  return JSON.parse(
    execFileSync(process.execPath, [join(consumer, file)], { encoding: 'utf8', timeout: 20_000 }),
  );
}

const seen = { ip: '192.0.2.9', protocol: 'https', view: '192.0.2.9' };

describe('@waitress-proxy/fastify as installed', () => {
  it('require() gives the plugin itself, with default, waitressProxy and the helpers on it', () => {
    const source = program(`
const Fastify = require('fastify');
const plugin = require('@waitress-proxy/fastify');
const shape = {
  isPlugin: typeof plugin === 'function',
  defaultIsPlugin: plugin.default === plugin,
  namedIsPlugin: plugin.waitressProxy === plugin,
  exports: ['waitressProxyRewriteUrl', 'MalformedProxyHeaderError', 'WaitressProxyConfigError'].map((name) => typeof plugin[name]),
};`);
    expect(runConsumer('app.cjs', source)).toEqual({
      seen,
      shape: {
        isPlugin: true,
        defaultIsPlugin: true,
        namedIsPlugin: true,
        exports: ['function', 'function', 'function'],
      },
    });
  });

  it('import gives the plugin as default and as waitressProxy', () => {
    const source = program(`
import { createRequire } from 'node:module';
import Fastify from 'fastify';
import plugin, * as module from '@waitress-proxy/fastify';
const require = createRequire(import.meta.url);
const shape = {
  namedIsDefault: module.waitressProxy === plugin,
  exports: Object.keys(module).sort(),
};`);
    expect(runConsumer('app.mjs', source)).toEqual({
      seen,
      shape: {
        namedIsDefault: true,
        exports: [
          'HostNotAllowedError',
          'MalformedProxyHeaderError',
          'MalformedRequestTargetError',
          'TooManyHeadersError',
          'TrustedRangesUnavailableError',
          'WaitressProxyConfigError',
          'default',
          'waitressProxy',
          'waitressProxyRewriteUrl',
        ],
      },
    });
  });
});
