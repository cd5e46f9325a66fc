/**
 * The README's demo, end to end: the demo's own script with its embedded
 * front proxy (and with --nginx when nginx is installed), checked on what it
 * prints. `npm run demo` runs the same script after installing and building.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describeWithProxies } from './support/proxies.js';

const DEMO = join(__dirname, '..', '..', 'examples', 'demo');

function runDemo(args: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(DEMO, 'node_modules', '.bin', 'tsx'), ['src/main.ts', ...args], {
      cwd: DEMO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGTERM'), 50_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** The cells of the row named `label` in the table printed after `heading`. */
function row(output: string, heading: string, label: string): string[] {
  const afterHeading = output.slice(output.indexOf(heading));
  // The table starts at its "framework" row, after the forged headers listed.
  const table = afterHeading.slice(afterHeading.indexOf('   framework  '));
  const line = table.split('\n').find((text) => text.trimStart().startsWith(`${label} `));
  if (line === undefined) throw new Error(`no "${label}" row after "${heading}" in:\n${output}`);
  return line
    .trim()
    .slice(label.length)
    .trim()
    .split(/\s{2,}/);
}

function checkOutput(output: string): void {
  const proxyPort = /at https:\/\/localhost:(\d+)\/<framework>\//.exec(output)?.[1];
  expect(proxyPort).toBeDefined();
  expect(row(output, '1. From 127.0.0.2', 'framework')).toEqual(['express', 'fastify', 'koa']);
  expect(row(output, '1. From 127.0.0.2', 'client address')).toEqual(Array(3).fill('127.0.0.2'));
  expect(row(output, '1. From 127.0.0.2', 'scheme')).toEqual(Array(3).fill('https'));
  expect(row(output, '1. From 127.0.0.2', 'host')).toEqual(Array(3).fill(`localhost:${proxyPort}`));
  expect(row(output, '1. From 127.0.0.2', 'prefix')).toEqual(['/express', '/fastify', '/koa']);
  expect(row(output, '2. From 127.0.0.3', 'client address')).toEqual(Array(3).fill('127.0.0.3'));
  expect(row(output, '2. From 127.0.0.3', 'x-forwarded-for:')).toEqual(Array(3).fill('127.0.0.3'));
  expect(row(output, '2. From 127.0.0.3', 'forwarded:')).toEqual(Array(3).fill('(none)'));
  expect(row(output, '3. From 127.0.0.4', 'client address')).toEqual(Array(3).fill('127.0.0.4'));
  expect(row(output, '3. From 127.0.0.4', 'scheme')).toEqual(Array(3).fill('http'));
  expect(output).toContain(`express  302 Location: https://localhost:${proxyPort}/express/whoami`);
  expect(output).toContain('Every app saw the real client address');
  expect(output).not.toContain('UNEXPECTED');
}

describe('the demo', () => {
  it('shows each app seeing the real client behind the embedded proxy, and forged headers failing', async () => {
    const { code, output } = await runDemo([]);
    expect(output).toContain('embedded TLS-terminating proxy (http-proxy-3)');
    checkOutput(output);
    expect(code).toBe(0);
  }, 60_000);

  it('refuses an unknown flag', async () => {
    const { code, output } = await runDemo(['--ngnix']);
    expect(output).toContain('unknown argument --ngnix');
    expect(code).toBe(2);
  }, 60_000);
});

describeWithProxies(['nginx'], 'the demo with --nginx', () => {
  it('shows the same behind the system nginx', async () => {
    const { code, output } = await runDemo(['--nginx']);
    expect(output).toMatch(/behind nginx \(/);
    checkOutput(output);
    expect(code).toBe(0);
  }, 60_000);
});
