/**
 * NestJS 12 on both platforms (examples/nestjs), over real sockets: a Nest
 * handler's `@Req()` shows the forwarded values, a stranger's forged headers
 * are removed, and a malformed header from the trusted proxy is a 400 through
 * Nest's own request pipeline.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';

const PROXY = '127.0.0.2';
const STRANGER = '127.0.0.3';
const OPTIONS = {
  trustedProxy: PROXY,
  trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'],
};
const EXAMPLE = join(__dirname, '..', '..', 'examples', 'nestjs');

let child: ChildProcess;
let ports: { express: number; fastify: number };

beforeAll(async () => {
  // NestJS 12 is ESM-only: the app runs in a process of its own (src/serve.ts).
  child = spawn(process.execPath, ['--import', 'tsx', 'src/serve.ts', JSON.stringify(OPTIONS)], {
    cwd: EXAMPLE,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  ports = await new Promise((done, fail) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line !== undefined) done(JSON.parse(line) as { express: number; fastify: number });
    });
    child.on('exit', (code) => {
      fail(new Error(`the NestJS app exited with ${String(code)}`));
    });
  });
}, 60_000);

afterAll(async () => {
  const exited = new Promise((done) => child.on('exit', done));
  child.stdin?.end();
  await exited;
});

function get(port: number, peer: string, headers: Record<string, string>) {
  return new Promise<{ status: number; body: unknown }>((done, fail) => {
    const req = request(
      { host: '127.0.0.1', port, localAddress: peer, path: '/', headers, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          done({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on('error', fail);
    req.end();
  });
}

describe.each(['express', 'fastify'] as const)('NestJS 12 on the %s platform', (platform) => {
  const port = () => ports[platform];

  const forwarded = {
    'x-forwarded-for': '203.0.113.7',
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'shop.example',
  };

  it("@Req() shows the trusted proxy's values", async () => {
    expect(await get(port(), PROXY, forwarded)).toEqual({
      status: 200,
      body: {
        ip: '203.0.113.7',
        protocol: 'https',
        host: 'shop.example',
        forwardedFor: '203.0.113.7',
      },
    });
  });

  it("a stranger's forged headers are neither used nor passed on", async () => {
    expect(await get(port(), STRANGER, forwarded)).toEqual({
      status: 200,
      body: { ip: STRANGER, protocol: 'http', host: `127.0.0.1:${port()}`, forwardedFor: null },
    });
  });

  it('a malformed header from the trusted proxy is a 400, and no handler runs', async () => {
    const { status, body } = await get(port(), PROXY, { 'x-forwarded-proto': 'ftp' });
    expect(status).toBe(400);
    expect(JSON.stringify(body)).toContain('Header \\"X-Forwarded-Proto\\" malformed.');
  });
});
