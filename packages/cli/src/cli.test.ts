/**
 * `waitress-proxy explain` as a process: the built bin, run with node, its
 * exit statuses, standard output and standard error. The suite builds the
 * package first if its bin is missing (the README's `npm test` builds all).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

const packageRoot = dirname(__dirname);
const bin = join(packageRoot, 'dist', 'bin.js');

beforeAll(() => {
  if (!existsSync(bin)) {
    const build = spawnSync('pnpm', ['run', 'build'], { cwd: packageRoot, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`building the CLI failed: ${build.stderr}`);
  }
});

function cli(args: string[], input?: string, env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
    ...(input === undefined ? {} : { input }),
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('waitress-proxy explain', () => {
  it('why is my IP 127.0.0.1: a Unix-socket nginx is localhost, and the fix is named (exit 0)', () => {
    const result = cli([
      'explain',
      '--trusted-proxy',
      '127.0.0.1',
      '--trusted-proxy-headers',
      'x-forwarded-for x-forwarded-proto',
      '--peer',
      'unix',
      '-H',
      'Host: shop.example',
      '-H',
      'X-Forwarded-For: 203.0.113.7',
      '-H',
      'X-Forwarded-Proto: https',
    ]);
    expect(result).toEqual({
      status: 0,
      stderr: '',
      stdout: [
        'peer localhost (a Unix socket: no address): not a trusted proxy',
        'X-Forwarded-For: "203.0.113.7": not read, the peer is not a trusted proxy, removed',
        'X-Forwarded-Proto: "https": not read, the peer is not a trusted proxy, removed',
        'client localhost from peer (the direct connection)',
        'scheme http from TLS (the connection is not TLS)',
        'host shop.example from Host (the Host header)',
        "port 8080 from listening port (the app's own port)",
        'to change: localhost sent X-Forwarded-For, X-Forwarded-Proto but is not a trusted ' +
          'proxy; if it is your proxy, add "unix" to trustedProxy (a Unix-socket peer has ' +
          'no address: "127.0.0.1" and "loopback" do not match it).',
        '',
      ].join('\n'),
    });
  });

  it("takes waitress's snake_case spellings and a raw request head on standard input", () => {
    const head = [
      '> GET /shop?q=1 HTTP/1.1',
      '> Host: app.internal',
      '> X-Forwarded-For: 6.6.6.6, 203.0.113.7',
      '> X-Forwarded-Proto: https',
      '>',
      '',
    ].join('\r\n');
    const result = cli(
      [
        'explain',
        '--trusted_proxy=10.0.0.5',
        '--trusted_proxy_headers=x-forwarded-for,x-forwarded-proto',
        '--peer',
        '::ffff:10.0.0.5',
        '--request',
        '-',
        '--json',
      ],
      head,
    );
    expect(result.status).toBe(0);
    const json = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(json).toMatchObject({
      peer: {
        reported: '::ffff:10.0.0.5',
        compared: '10.0.0.5',
        trusted: true,
        matchedBy: '"10.0.0.5"',
      },
      clientAddress: { value: '203.0.113.7', from: 'X-Forwarded-For' },
      scheme: { value: 'https', from: 'X-Forwarded-Proto' },
      resolution: { ok: true, view: { path: '/shop?q=1', host: 'app.internal' } },
      headers: [
        { header: 'X-Forwarded-For', outcome: 'used', window: '203.0.113.7', cut: '6.6.6.6' },
        { header: 'X-Forwarded-Proto', outcome: 'used' },
      ],
    });
  });

  it('exits 1 for a request the app would refuse, with the error in the JSON', () => {
    const result = cli([
      'explain',
      '--trusted-proxy',
      '10.0.0.5',
      '--trusted-proxy-headers',
      'x-forwarded-proto',
      '--peer',
      '10.0.0.5',
      '-H',
      'X-Forwarded-Proto: ftp',
      '--json',
    ]);
    expect(result.status).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      resolution: {
        ok: false,
        error: {
          statusCode: 400,
          message: 'Header "X-Forwarded-Proto" malformed.',
          header: 'X-Forwarded-Proto',
          reason: 'not "http" or "https"',
        },
      },
    });
  });

  it.each([
    [
      'an invalid configuration',
      ['explain', '--trusted-proxy', '10.0.0.256', '--peer', '10.0.0.5'],
      /^waitress-proxy: invalid trustedProxy entry "10\.0\.0\.256"\. Write an IP address/,
    ],
    [
      'a count without trustedProxy',
      ['explain', '--trusted-proxy-count', '2', '--peer', '10.0.0.5'],
      /trustedProxyCount has no meaning without trustedProxy/,
    ],
    ['no --peer', ['explain', '-H', 'Host: a'], /--peer is required/],
    [
      'an unknown flag',
      ['explain', '--trusted-proxies', 'x', '--peer', 'a'],
      /Unknown option '--trusted-proxies'/,
    ],
    [
      'a header line without a colon',
      ['explain', '--peer', '10.0.0.5', '-H', 'Host'],
      /-H: not a header line/,
    ],
    ['an unknown command', ['resolve'], /unknown command "resolve": the command is "explain"/],
  ])('exits 2 for %s, saying what to change', (_what, args, message) => {
    const result = cli(args);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
  });

  it('exits 2 for a request head that is not one', () => {
    const result = cli(['explain', '--peer', '10.0.0.5', '--request', '-'], 'Host: a\r\n\r\n');
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--request: the request head must start with a request line/);
  });

  it('reads WAITRESS_PROXY_* from the environment, and flags override it', () => {
    const env = {
      WAITRESS_PROXY_TRUSTED_PROXY: '10.0.0.5',
      WAITRESS_PROXY_TRUSTED_PROXY_HEADERS: 'x-forwarded-for',
    };
    const args = ['explain', '--peer', '10.0.0.5', '-H', 'X-Forwarded-For: 203.0.113.7', '--json'];
    const fromEnv = JSON.parse(cli(args, undefined, env).stdout) as { clientAddress: unknown };
    expect(fromEnv.clientAddress).toEqual({ value: '203.0.113.7', from: 'X-Forwarded-For' });
    const overridden = cli([...args, '--trusted-proxy', '10.0.0.6'], undefined, env);
    expect(JSON.parse(overridden.stdout)).toMatchObject({ peer: { trusted: false } });
    const bad = cli(args, undefined, { WAITRESS_PROXY_TRUSTED_PROXY_COUNT: 'two' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/trusted_proxy_count must be a positive integer or inf/);
  });

  it('--help documents the command and exits 0', () => {
    const result = cli(['--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Usage: waitress-proxy explain \[options\]/);
    expect(result.stdout).toContain('Exit status: 0 when the request resolves, 1 when');
  });
});
