/**
 * Starting the real proxies (Debian's packages) from the rendered examples,
 * and deciding, once per test file, which of them this machine can run.
 */
import {
  accessSync,
  constants,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Certificate } from '../../../examples/demo/src/certificate.js';
import { SERVER_NAME, waitFor } from './client.js';
import { freePort } from './ports.js';
import { startDaemon } from './processes.js';
import type { Daemon } from './processes.js';
import { renderExample } from './templates.js';

export type ProxyKind = 'nginx' | 'apache' | 'haproxy' | 'caddy';

/** The binary each proxy runs as, and the Debian package that has it. */
export const PROXY_SOFTWARE: Readonly<Record<ProxyKind, { binary: string; aptPackage: string }>> = {
  nginx: { binary: 'nginx', aptPackage: 'nginx' },
  apache: { binary: 'apache2', aptPackage: 'apache2' },
  haproxy: { binary: 'haproxy', aptPackage: 'haproxy' },
  caddy: { binary: 'caddy', aptPackage: 'caddy' },
};

/** Debian's Apache modules. */
const APACHE_MODULES = '/usr/lib/apache2/modules';

/** The binary's path: PATH, then the sbin folders a non-root PATH may lack. */
export function findBinary(name: string): string | undefined {
  const folders = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin'];
  for (const folder of folders) {
    if (folder === '') continue;
    const candidate = join(folder, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The proxies of `kinds` that are not installed. */
export function missingProxies(kinds: readonly ProxyKind[]): ProxyKind[] {
  return kinds.filter((kind) => findBinary(PROXY_SOFTWARE[kind].binary) === undefined);
}

/**
 * `describe` for tests that need `kinds`. When one is missing: with
 * `CI=true` the tests run and fail, saying what to install; elsewhere they
 * are skipped, loudly, with the same instruction.
 */
export function describeWithProxies(
  kinds: readonly ProxyKind[],
  title: string,
  body: () => void,
): void {
  const missing = missingProxies(kinds);
  if (missing.length === 0) {
    describe(title, body);
    return;
  }
  const packages = missing.map((kind) => PROXY_SOFTWARE[kind].aptPackage).join(' ');
  const advice = `not installed: ${missing.join(', ')}. Install with: sudo apt-get install ${packages}`;
  if (process.env.CI === 'true') {
    describe(title, () => {
      beforeAll(() => {
        throw new Error(`CI needs every proxy; ${advice}`);
      });
      body();
    });
    return;
  }
  console.warn(
    `\n${'!'.repeat(78)}\n!! SKIPPED: ${title}\n!! ${advice}\n!! (with CI=true these tests fail instead)\n${'!'.repeat(78)}\n`,
  );
  describe.skip(`${title} [SKIPPED, ${advice}]`, body);
}

/** The certificate files every proxy of a test file uses. */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** Certificate then key in one file, as HAProxy's `crt` wants. */
  readonly certKeyFile: string;
}

/** A temporary folder for rendered configurations, state and certificates. */
export class Workspace {
  readonly dir = mkdtempSync(join(tmpdir(), 'waitress-proxy-'));

  /** A new sub-folder. */
  folder(name: string): string {
    return mkdtempSync(join(this.dir, `${name}-`));
  }

  writeTls(certificate: Certificate): TlsFiles {
    const certFile = join(this.dir, 'cert.pem');
    const keyFile = join(this.dir, 'key.pem');
    const certKeyFile = join(this.dir, 'cert-key.pem');
    writeFileSync(certFile, certificate.cert);
    writeFileSync(keyFile, certificate.key, { mode: 0o600 });
    writeFileSync(certKeyFile, `${certificate.cert.trimEnd()}\n${certificate.key.trimEnd()}\n`, {
      mode: 0o600,
    });
    return { certFile, keyFile, certKeyFile };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface StartedProxy {
  readonly kind: ProxyKind;
  /** The port on 127.0.0.1 the proxy listens on. */
  readonly port: number;
  readonly daemon: Daemon;
}

export interface ProxySpec {
  readonly kind: ProxyKind;
  /** The site file under examples/, e.g. `nginx/waitress-proxy.conf`. */
  readonly site: string;
  /** Where the proxy forwards to on 127.0.0.1. */
  readonly upstreamPort: number;
  /** The app's Unix socket, for a site that forwards to one (`{{APP_SOCKET}}`). */
  readonly upstreamSocket?: string;
}

/** Renders `spec.site` (and its wrapper) and starts the proxy; resolves once it accepts connections. */
export async function startProxy(
  workspace: Workspace,
  tls: TlsFiles,
  spec: ProxySpec,
): Promise<StartedProxy> {
  const binary = findBinary(PROXY_SOFTWARE[spec.kind].binary);
  if (binary === undefined) throw new Error(`${spec.kind} is not installed`);
  const state = workspace.folder(spec.kind);
  const port = await freePort();
  const values: Record<string, string> = {
    PROXY_ADDRESS: '127.0.0.1',
    PROXY_PORT: String(port),
    APP_PORT: String(spec.upstreamPort),
    SERVER_NAME,
    CERT_FILE: tls.certFile,
    KEY_FILE: tls.keyFile,
    CERT_KEY_FILE: tls.certKeyFile,
    STATE_DIR: state,
    APACHE_MODULES,
    APP_SOCKET: spec.upstreamSocket ?? '',
  };
  values.SITE_FILE = renderExample(spec.site, state, values);

  let daemon: Daemon;
  switch (spec.kind) {
    case 'nginx': {
      const config = renderExample('nginx/nginx.conf', state, values);
      daemon = startDaemon('nginx', binary, ['-e', 'stderr', '-p', state, '-c', config]);
      break;
    }
    case 'apache': {
      const config = renderExample('apache/httpd.conf', state, values);
      daemon = startDaemon('apache', binary, ['-X', '-f', config]);
      break;
    }
    case 'haproxy':
      daemon = startDaemon('haproxy', binary, ['-db', '-f', values.SITE_FILE]);
      break;
    case 'caddy':
      daemon = startDaemon(
        'caddy',
        binary,
        ['run', '--adapter', 'caddyfile', '--config', values.SITE_FILE],
        // Caddy keeps its data and autosaved config under these.
        { env: { ...process.env, HOME: state, XDG_DATA_HOME: state, XDG_CONFIG_HOME: state } },
      );
      break;
  }
  await waitFor(
    `${spec.kind} on 127.0.0.1:${port}`,
    async () => {
      if (daemon.exited) throw new Error('it exited');
      await tcpConnect(port);
    },
    15_000,
    () => `${spec.kind} said:\n${daemon.output()}${readIfPresent(join(state, 'error.log'))}`,
  );
  return { kind: spec.kind, port, daemon };
}

/** Apache writes its start-up errors to ErrorLog, not to stderr. */
function readIfPresent(file: string): string {
  return existsSync(file) ? `\n${file}:\n${readFileSync(file, 'utf8')}` : '';
}

function tcpConnect(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}
