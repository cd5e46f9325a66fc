/**
 * `--nginx`: the system's nginx as the front proxy instead of the embedded
 * one, run from examples/nginx/nginx.conf around nginx-site.conf, in a
 * temporary folder, on a loopback port, in its own process group.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Certificate } from './certificate.js';
import { CERTIFICATE_HOST } from './certificate.js';
import type { FrontProxy } from './front-proxy.js';
import { renderTemplate } from './template.js';

const EXAMPLES = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** nginx's path, looking in the sbin folders a non-root PATH may lack. */
export function findNginx(): string | undefined {
  const folders = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'];
  for (const folder of folders.filter((entry) => entry !== '')) {
    try {
      accessSync(join(folder, 'nginx'), constants.X_OK);
      return join(folder, 'nginx');
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Starts nginx in front of the apps; `ports` maps EXPRESS_PORT etc. */
export async function startNginx(
  binary: string,
  certificate: Certificate,
  ports: Readonly<Record<string, string>>,
): Promise<FrontProxy> {
  const state = mkdtempSync(join(tmpdir(), 'waitress-proxy-demo-nginx-'));
  const certFile = join(state, 'cert.pem');
  const keyFile = join(state, 'key.pem');
  writeFileSync(certFile, certificate.cert);
  writeFileSync(keyFile, certificate.key, { mode: 0o600 });
  const port = await freePort();
  const values: Record<string, string> = {
    ...ports,
    PROXY_ADDRESS: '127.0.0.1',
    PROXY_PORT: String(port),
    SERVER_NAME: CERTIFICATE_HOST,
    CERT_FILE: certFile,
    KEY_FILE: keyFile,
    STATE_DIR: state,
  };
  const render = (template: string, name: string): string => {
    const target = join(state, name);
    writeFileSync(target, renderTemplate(readFileSync(join(EXAMPLES, template), 'utf8'), values));
    return target;
  };
  values.SITE_FILE = render('demo/nginx-site.conf', 'site.conf');
  const config = render('nginx/nginx.conf', 'nginx.conf');

  const child = spawn(binary, ['-e', 'stderr', '-p', state, '-c', config], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // If the demo dies before it can stop nginx (an exception, Ctrl-C), the
  // group still goes with it.
  const killOnExit = (): void => {
    if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
  };
  process.once('exit', killOnExit);
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
  const stop = async (): Promise<void> => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      process.kill(-child.pid, 'SIGTERM');
      const pid = child.pid;
      const timer = setTimeout(() => {
        process.kill(-pid, 'SIGKILL');
      }, 5000);
      await exited;
      clearTimeout(timer);
    }
    process.off('exit', killOnExit);
    rmSync(state, { recursive: true, force: true });
  };

  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`nginx did not start:\n${output}`);
    }
    if (await accepts(port)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`nginx did not listen on 127.0.0.1:${port} in time:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { port, close: stop };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => {
        resolve(port);
      });
    });
  });
}
