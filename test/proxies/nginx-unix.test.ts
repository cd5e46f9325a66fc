/**
 * nginx in front of an app on a Unix socket (examples/nginx/waitress-proxy-unix.conf),
 * on all three frameworks: Express and Koa on `http.Server#listen(path)`,
 * Fastify on `listen({ path })`. The socket is set up as docs/security.md
 * says: nginx's group, mode 660, in a directory of that group.
 *
 * A socket peer has no address, so `trustedProxy: 'unix'` trusts it, and
 * every local process that can open the socket is a trusted proxy: the
 * permissions are the boundary, and a process outside the group is refused
 * by the kernel before HTTP. `trustedProxy: '127.0.0.1'` (what nginx guides
 * write) trusts nothing there: the app sees `localhost` and `http`, and the
 * adapter warns once, naming the fix.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCertificate } from '../../examples/demo/src/certificate.js';
import { request } from './support/client.js';
import { stopAll } from './support/processes.js';
import { describeWithProxies, startProxy, Workspace } from './support/proxies.js';
import type { StartedProxy } from './support/proxies.js';
import { RecordingLogger, startShapeApp } from './support/shape-apps.js';
import type { Seen, ShapeApp, ShapeFramework } from './support/shape-apps.js';
import { FORGED, FORGED_HEADERS, forgedValuesIn, nextClientAddress } from './support/sources.js';

const FRAMEWORKS: readonly ShapeFramework[] = ['express', 'fastify', 'koa'];

const HEADERS = ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port'];

/** The group nginx's worker runs as (it opens the socket), from /proc. */
function workerGroupOf(masterPid: number): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let status: string;
    try {
      status = readFileSync(`/proc/${entry}/status`, 'utf8');
    } catch {
      continue;
    }
    if (new RegExp(`^PPid:\\s+${masterPid}$`, 'm').test(status)) {
      const gid = /^Gid:\s+(\d+)/m.exec(status)?.[1];
      if (gid !== undefined) return Number(gid);
    }
  }
  throw new Error(`no worker of nginx ${masterPid} found`);
}

/** One GET straight over the socket, as any local process can send it. */
function overSocket(
  socketPath: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = httpRequest(
      { socketPath, path: '/whoami', headers: { host: 'app.local', ...headers }, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          done({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on('error', fail);
    req.end();
  });
}

function parse(reply: { status: number; body: string }): Seen {
  if (reply.status !== 200) throw new Error(`expected 200, got ${reply.status}: ${reply.body}`);
  return JSON.parse(reply.body) as Seen;
}

const isRoot = process.getuid?.() === 0;

describeWithProxies(['nginx'], 'nginx to an app on a Unix socket', () => {
  describe.each(FRAMEWORKS)('%s', (framework) => {
    let workspace: Workspace;
    let socketDir: string;
    let ca: string;
    let proxy: StartedProxy;
    let trapProxy: StartedProxy;
    let trapLogger: RecordingLogger;
    const apps: ShapeApp[] = [];
    const socket = (): string => join(socketDir, 'app.sock');

    beforeAll(async () => {
      workspace = new Workspace();
      const certificate = await makeCertificate();
      ca = certificate.cert;
      const tls = workspace.writeTls(certificate);
      // Under the system's temporary folder, not the workspace (mode 700):
      // nginx's worker, not root, must reach it.
      socketDir = mkdtempSync(join(tmpdir(), 'waitress-proxy-socket-'));
      apps.push(
        await startShapeApp(
          framework,
          { path: socket() },
          {
            trustedProxy: 'unix',
            trustedProxyHeaders: HEADERS,
            logger: new RecordingLogger(),
          },
        ),
      );
      const trapSocket = join(socketDir, 'trap.sock');
      trapLogger = new RecordingLogger();
      apps.push(
        await startShapeApp(
          framework,
          { path: trapSocket },
          {
            trustedProxy: '127.0.0.1',
            trustedProxyHeaders: HEADERS,
            logger: trapLogger,
          },
        ),
      );
      const site = 'nginx/waitress-proxy-unix.conf';
      proxy = await startProxy(workspace, tls, {
        kind: 'nginx',
        site,
        upstreamPort: 0,
        upstreamSocket: socket(),
      });
      trapProxy = await startProxy(workspace, tls, {
        kind: 'nginx',
        site,
        upstreamPort: 0,
        upstreamSocket: trapSocket,
      });
      // docs/security.md: the socket's group is the proxy's, mode 660, in a
      // directory only the app and that group can enter.
      const group = workerGroupOf(proxy.daemon.pid);
      for (const path of [socketDir, socket(), trapSocket]) {
        chownSync(path, process.getuid?.() ?? 0, group);
      }
      chmodSync(socketDir, 0o750);
      chmodSync(socket(), 0o660);
      chmodSync(trapSocket, 0o660);
    }, 30_000);

    afterAll(async () => {
      await stopAll();
      for (const app of apps) await app.close();
      rmSync(socketDir, { recursive: true, force: true });
      workspace.remove();
    }, 30_000);

    const get = (port: number, from: string, headers?: Record<string, string>) =>
      request({ port, path: '/whoami', from, ca, headers });

    it('trustedProxy unix: the app sees the client address, scheme and host the client used', async () => {
      const client = nextClientAddress();
      const seen = parse(await get(proxy.port, client));
      expect(seen).toMatchObject({
        clientAddress: client,
        scheme: 'https',
        host: `localhost:${proxy.port}`,
        view: { peerAddress: 'localhost', peerTrusted: true, port: proxy.port },
      });
      expect(seen.headers['x-forwarded-for']).toBe(client);
    });

    it('proxy headers a client forges through nginx change nothing and do not reach the app', async () => {
      const client = nextClientAddress();
      const seen = parse(await get(proxy.port, client, FORGED_HEADERS));
      expect(seen).toMatchObject({
        clientAddress: client,
        scheme: 'https',
        host: `localhost:${proxy.port}`,
      });
      expect(seen.headers['x-forwarded-for']).toBe(client);
      expect(forgedValuesIn(JSON.stringify(seen))).toEqual([]);
    });

    // By design: the socket has no address to tell nginx from another local
    // process, so whoever can open it is the proxy. This test runs as the
    // socket's owner, which may open it: its forged headers are believed.
    // The boundary is the file mode (next test), as docs/security.md says.
    it('a local process that can open the socket is a trusted proxy: its headers are believed', async () => {
      const seen = parse(await overSocket(socket(), FORGED_HEADERS));
      expect(seen).toMatchObject({
        clientAddress: FORGED.address,
        host: `${FORGED.host}:${FORGED.port}`,
        view: { peerAddress: 'localhost', peerTrusted: true },
      });
    });

    (isRoot ? it : it.skip)(
      'a local process outside the proxy’s group cannot open the socket (mode 660)',
      () => {
        const group = workerGroupOf(proxy.daemon.pid);
        // `daemon` (1:1), or `bin` (2:2) if nginx's worker runs in group 1.
        const stranger = group === 1 ? 2 : 1;
        const script =
          "require('net').connect(process.argv[1])" +
          ".on('connect',()=>{console.log('connected');process.exit(0)})" +
          ".on('error',e=>{console.log(e.code);process.exit(0)})";
        const result = spawnSync(process.execPath, ['-e', script, socket()], {
          uid: stranger,
          gid: stranger,
          encoding: 'utf8',
          timeout: 10_000,
        });
        expect(result.stdout.trim()).toBe('EACCES');
      },
    );

    it('trustedProxy 127.0.0.1 on a socket trusts nothing, and warns once naming the fix', async () => {
      const client = nextClientAddress();
      const first = parse(await get(trapProxy.port, client));
      const second = parse(await get(trapProxy.port, client));
      for (const seen of [first, second]) {
        expect(seen).toMatchObject({
          clientAddress: 'localhost',
          scheme: 'http',
          view: { peerAddress: 'localhost', peerTrusted: false },
        });
        expect(seen.headers['x-forwarded-for']).toBeUndefined();
      }
      const trap = trapLogger.messages.filter((m) => m.includes('Unix-socket peer'));
      expect(trap).toEqual([expect.stringContaining("add 'unix' to trustedProxy") as unknown]);
      expect(trap[0]).toContain('mode 660, the group of the proxy');
    });
  });
});
