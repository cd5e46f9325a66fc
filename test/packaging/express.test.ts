/**
 * The built Express adapter as users install it, with its ESM and CommonJS
 * builds loaded side by side in one process (the dual-package hazard: an
 * app that imports it while a dependency requires it). Both builds install
 * getters on Express's one base request prototype, so they must share the
 * table of views: a request that passed one build's middleware must read
 * the resolved values through getters the other build installed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const packageDir = resolve(__dirname, '../../packages/express');
let consumer: string;

beforeAll(() => {
  if (!existsSync(join(packageDir, 'dist/index.cjs'))) {
    throw new Error('packages/express/dist is missing: run `pnpm run build` (npm test does it)');
  }
  consumer = mkdtempSync(join(tmpdir(), 'waitress-proxy-express-consumer-'));
  mkdirSync(join(consumer, 'node_modules/@waitress-proxy'), { recursive: true });
  symlinkSync(packageDir, join(consumer, 'node_modules/@waitress-proxy/express'), 'dir');
  // The app's Express: the one the package was built and tested against.
  symlinkSync(
    join(packageDir, 'node_modules/express'),
    join(consumer, 'node_modules/express'),
    'dir',
  );
});

afterAll(() => {
  rmSync(consumer, { recursive: true, force: true });
});

// Requests go to 127.0.0.1 only; the trusted proxy is the loopback peer.
const PROGRAM = `
import { createRequire } from 'node:module';
import { request } from 'node:http';
import express from 'express';
import { waitressProxy as fromEsm } from '@waitress-proxy/express';
const { waitressProxy: fromCjs } = createRequire(import.meta.url)('@waitress-proxy/express');

const options = { trustedProxy: '127.0.0.1', trustedProxyHeaders: 'x-forwarded-for x-forwarded-proto', logger: { warn() {} } };
function app(middleware) {
  const app = express();
  app.use(middleware(options));
  app.get('/', (req, res) => {
    res.json({ ip: req.ip, protocol: req.protocol, client: req.forwarded?.clientAddress });
  });
  return app;
}
function get(server) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.address().port, path: '/', headers: { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' } }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve(JSON.parse(body)));
    });
    req.on('error', reject);
    req.end();
  });
}
const results = [];
// ESM first: its getters are the ones installed; then the CommonJS build's middleware.
for (const middleware of [fromEsm, fromCjs]) {
  const server = app(middleware).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  results.push(await get(server));
  server.close();
}
console.log(JSON.stringify({ distinct: fromEsm !== fromCjs, results }));
`;

it('the ESM and CommonJS builds in one process share one table of views', () => {
  writeFileSync(join(consumer, 'app.mjs'), PROGRAM);
  const output = execFileSync(process.execPath, [join(consumer, 'app.mjs')], {
    encoding: 'utf8',
  });
  const resolved = { ip: '203.0.113.7', protocol: 'https', client: '203.0.113.7' };
  expect(JSON.parse(output)).toEqual({ distinct: true, results: [resolved, resolved] });
});
