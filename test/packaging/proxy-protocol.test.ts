/**
 * The built @waitress-proxy/proxy-protocol as users install it: `require`
 * and `import` through its `exports` map (dist/ must be built: `npm test`
 * builds it), beside the built core it depends on. The consumer reads a real
 * PROXY header over loopback, so the two builds must agree on the socket key.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const packages = resolve(__dirname, '../../packages');
let consumer: string;

beforeAll(() => {
  for (const name of ['core', 'proxy-protocol']) {
    if (!existsSync(join(packages, name, 'dist/index.cjs'))) {
      throw new Error(
        `packages/${name}/dist is missing: run \`pnpm run build\` (npm test does it)`,
      );
    }
  }
  consumer = mkdtempSync(join(tmpdir(), 'waitress-proxy-consumer-'));
  mkdirSync(join(consumer, 'node_modules/@waitress-proxy'), { recursive: true });
  for (const name of ['core', 'proxy-protocol']) {
    symlinkSync(
      join(packages, name),
      join(consumer, `node_modules/@waitress-proxy/${name}`),
      'dir',
    );
  }
});

afterAll(() => {
  rmSync(consumer, { recursive: true, force: true });
});

const program = (load: string) => `
${load}
const server = http.createServer((req, res) => {
  res.end(JSON.stringify({ peer: core.requestInput(req).peerAddress, balancer: req.socket.remoteAddress }));
});
pp.acceptProxyProtocol(server, { from: '127.0.0.1' });
server.listen(0, '127.0.0.1', () => {
  const socket = net.connect(server.address().port, '127.0.0.1', () => {
    socket.write('PROXY TCP4 203.0.113.7 10.0.0.1 51000 443\\r\\nGET / HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n');
  });
  let text = '';
  socket.on('data', (chunk) => { text += chunk; });
  socket.on('close', () => {
    server.close();
    console.log(JSON.stringify({ seen: JSON.parse(text.slice(text.indexOf('{'))), exports: Object.keys(pp).sort() }));
  });
});
`;

function runConsumer(file: string, source: string): unknown {
  writeFileSync(join(consumer, file), source);
  return JSON.parse(
    execFileSync(process.execPath, [join(consumer, file)], { encoding: 'utf8', timeout: 10_000 }),
  );
}

const expected = {
  seen: { peer: '203.0.113.7', balancer: '127.0.0.1' },
  exports: [
    'DEFAULT_TIMEOUT',
    'MAX_V1_LENGTH',
    'MAX_V2_LENGTH',
    'PROXY_PROTOCOL_PEER',
    'acceptProxyProtocol',
  ],
};

describe('@waitress-proxy/proxy-protocol as installed', () => {
  it('works from CommonJS (require)', () => {
    expect(
      runConsumer(
        'app.cjs',
        program(
          "const http = require('node:http'); const net = require('node:net'); const core = require('@waitress-proxy/core'); const pp = require('@waitress-proxy/proxy-protocol');",
        ),
      ),
    ).toEqual(expected);
  });

  it('works from ESM (import)', () => {
    expect(
      runConsumer(
        'app.mjs',
        program(
          "import http from 'node:http'; import net from 'node:net'; import * as core from '@waitress-proxy/core'; import * as pp from '@waitress-proxy/proxy-protocol';",
        ),
      ),
    ).toEqual(expected);
  });

  it('a CommonJS core and an ESM reader agree on the socket key', () => {
    expect(
      runConsumer(
        'mixed.mjs',
        program(
          "import http from 'node:http'; import net from 'node:net'; import { createRequire } from 'node:module'; const core = createRequire(import.meta.url)('@waitress-proxy/core'); import * as pp from '@waitress-proxy/proxy-protocol';",
        ),
      ),
    ).toEqual(expected);
  });
});
