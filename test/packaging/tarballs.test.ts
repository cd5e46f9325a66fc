/**
 * The packages as a user meets them: every package under packages/ is packed
 * with `pnpm pack` (as `pnpm publish` packs it), the tarballs are checked
 * (README.md, LICENSE, every file `files` and `exports` name, `workspace:`
 * ranges turned into versions, dependencies exactly what the build imports),
 * then installed with npm alone into fresh projects under the system's
 * temporary folder, outside the workspace, and each project runs a real app
 * over loopback:
 *
 * | project       | framework (from the registry) | module system          |
 * | ------------- | ----------------------------- | ---------------------- |
 * | express4      | express@4                     | CommonJS `require`     |
 * | express5      | express@5                     | ESM                    |
 * | fastify5-ts   | fastify@5                     | ESM from TypeScript    |
 * | koa2          | koa@2                         | CommonJS and ESM       |
 * | koa3          | koa@3                         | CommonJS and ESM       |
 *
 * Each app trusts 127.0.0.2: a request from it with `X-Forwarded-For` and
 * `X-Forwarded-Proto` shows the client and https; the same headers from
 * 127.0.0.3 (not trusted) are removed and the app sees the peer and http.
 * The TypeScript project compiles the app under `strict` with
 * `moduleResolution` `node16` (and runs that build) and `bundler`, and checks
 * every package's published declarations (`.d.ts` for import, `.d.cts` for
 * require), with `skipLibCheck` off, on TypeScript 5.9 and 7.
 *
 * npm's cache (~/.npm) is shared between runs and `--prefer-offline` uses it
 * without asking the registry again, so only a cold cache downloads. Without
 * the registry and a cold cache, the installs fail within their deadline
 * with a message saying so (the last test proves it on loopback).
 */
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  assertBuilt,
  inBatches,
  installProject,
  isSkeleton,
  pack,
  run,
  tarballEntries,
  tarballFile,
  workspacePackages,
} from './tarball-support';
import type { PackageManifest, WorkspacePackage } from './tarball-support';

const packages = workspacePackages();
const byName = (name: string): WorkspacePackage => {
  const found = packages.find((pkg) => pkg.manifest.name === name);
  if (found === undefined) throw new Error(`no package ${name} under packages/`);
  return found;
};

// The TypeScript the published declarations must satisfy: the repository's
// own 5.9, and TypeScript 7 (the native compiler, `typescript` 7.x on npm).
const TYPESCRIPT = '5.9.3';
const TYPESCRIPT_7 = '7.0.2';

let root: string | undefined;
const tarballs = new Map<string, string>();

type ProjectName = 'express4' | 'express5' | 'fastify5' | 'koa2' | 'koa3';
/** The project folders, by name, once installed. */
const installed = new Map<ProjectName, string>();

/** An installed project's folder; throws (never '' or the cwd) when its install failed. */
function projectDir(name: ProjectName): string {
  const dir = installed.get(name);
  if (dir === undefined) throw new Error(`the ${name} project was not installed: see beforeAll`);
  return dir;
}

beforeAll(async () => {
  for (const pkg of packages) assertBuilt(pkg);
  const workDir = mkdtempSync(join(tmpdir(), 'waitress-proxy-tarballs-'));
  root = workDir;
  await inBatches(packages, 2, async (pkg) => {
    tarballs.set(pkg.manifest.name, await pack(pkg, join(workDir, 'tarballs', pkg.folder)));
  });
  const tarball = (name: string): string => tarballs.get(name)!;
  const core = tarball('@waitress-proxy/core');
  const installs: [ProjectName, Record<string, unknown>, string[]][] = [
    [
      'express4',
      { name: 'express4-app', private: true },
      [core, tarball('@waitress-proxy/express'), tarball('@waitress-proxy/cli'), 'express@4'],
    ],
    [
      'express5',
      { name: 'express5-app', private: true, type: 'module' },
      [
        core,
        tarball('@waitress-proxy/express'),
        tarball('@waitress-proxy/ranges'),
        tarball('@waitress-proxy/proxy-protocol'),
        'express@5',
      ],
    ],
    [
      'fastify5',
      { name: 'fastify5-app', private: true, type: 'module' },
      [
        // Every package, for the declaration checks; the frameworks their
        // declarations import, with their types.
        ...packages.map((pkg) => tarball(pkg.manifest.name)),
        'fastify@5',
        // Express 4, not 5: express@5 hoists content-disposition 1, whose
        // own types lack what @types/koa 3 imports from it (an upstream
        // mismatch, not ours). The Express adapter's declarations import
        // nothing from express.
        'express@4',
        'koa@3',
        '@types/koa@3',
        '@types/node@20',
        `typescript@${TYPESCRIPT}`,
        `typescript7@npm:typescript@${TYPESCRIPT_7}`,
      ],
    ],
    ['koa2', { name: 'koa2-app', private: true }, [core, tarball('@waitress-proxy/koa'), 'koa@2']],
    ['koa3', { name: 'koa3-app', private: true }, [core, tarball('@waitress-proxy/koa'), 'koa@3']],
  ];
  await inBatches(installs, 3, async ([name, manifest, dependencies]) => {
    const dir = join(workDir, name);
    await installProject(dir, manifest, dependencies, { timeoutMs: 150_000 });
    installed.set(name, dir);
  });
}, 240_000);

afterAll(() => {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

// A package still being written (src/index.ts is `export {};`) has no
// README or imports yet; it is packed and installed, and checked here as
// soon as it exports something.
const written = packages.filter((pkg) => !isSkeleton(pkg));

describe.each(written.map((pkg) => [pkg.manifest.name, pkg] as const))(
  '%s tarball',
  (name, pkg) => {
    const tarball = (): string => tarballs.get(name)!;
    const packed = (): PackageManifest =>
      JSON.parse(tarballFile(tarball(), 'package.json')) as PackageManifest;

    it('has README.md, LICENSE and every file its `files` names', () => {
      const entries = tarballEntries(tarball());
      expect(entries).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE']));
      const missing = (pkg.manifest.files ?? []).filter(
        (file) => !entries.some((entry) => entry === file || entry.startsWith(`${file}/`)),
      );
      expect(missing).toEqual([]);
    });

    it('has every file its main, module, types, bin and exports point to', () => {
      const manifest = packed();
      const targets = new Set<string>();
      const collect = (value: unknown): void => {
        if (typeof value === 'string') targets.add(value.replace(/^\.\//, ''));
        else if (value !== null && typeof value === 'object') Object.values(value).forEach(collect);
      };
      collect([manifest.main, manifest.module, manifest.types, manifest.bin, manifest.exports]);
      const entries = new Set(tarballEntries(tarball()));
      expect([...targets].filter((target) => !entries.has(target))).toEqual([]);
    });

    it('lists types first in every exports condition', () => {
      const misplaced: string[] = [];
      const walk = (value: unknown, path: string): void => {
        if (value === null || typeof value !== 'object') return;
        const keys = Object.keys(value);
        if (keys.includes('types') && keys[0] !== 'types') misplaced.push(path);
        for (const [key, inner] of Object.entries(value)) walk(inner, `${path}.${key}`);
      };
      walk(packed().exports, 'exports');
      expect(misplaced).toEqual([]);
    });

    it('turns workspace: ranges into the versions of the packed packages', () => {
      const manifest = packed();
      const fields = [
        manifest.dependencies,
        manifest.peerDependencies,
        manifest.optionalDependencies,
      ];
      for (const field of fields) {
        for (const [dependency, range] of Object.entries(field ?? {})) {
          expect(`${dependency}@${range}`).not.toMatch(/workspace:/);
          if (dependency.startsWith('@waitress-proxy/')) {
            expect(range).toBe(`^${byName(dependency).manifest.version}`);
          }
        }
      }
    });

    it('depends on exactly what its build imports; frameworks are peers', () => {
      const manifest = packed();
      const imported = new Set<string>();
      for (const entry of tarballEntries(tarball())) {
        if (!/\.(c|m)?js$|\.d\.(c|m)?ts$/.test(entry)) continue;
        const text = tarballFile(tarball(), entry);
        for (const match of text.matchAll(
          /(?:from\s*|require\(\s*|import\(\s*)["']([^"'./][^"']*)["']/g,
        )) {
          const specifier = match[1]!;
          if (specifier.startsWith('node:') || builtinModules.includes(specifier)) continue;
          // Text that only looks like an import (`from "${x}"` in a message).
          if (!/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*(\/|$)/.test(specifier)) continue;
          const parts = specifier.split('/');
          imported.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
        }
      }
      const dependencies = Object.keys(manifest.dependencies ?? {}).sort();
      const peers = Object.keys(manifest.peerDependencies ?? {});
      // Every import is declared; every dependency is imported (a dev tool in
      // `dependencies` would be installed into every user's app).
      expect(
        [...imported].filter((name) => !dependencies.includes(name) && !peers.includes(name)),
      ).toEqual([]);
      expect(dependencies.filter((name) => !imported.has(name))).toEqual([]);
      expect(dependencies.filter((name) => ['express', 'fastify', 'koa'].includes(name))).toEqual(
        [],
      );
    });
  },
);

it.each([
  ['@waitress-proxy/express', { express: '^4.21.0 || ^5.0.0' }],
  ['@waitress-proxy/fastify', { fastify: '^5.0.0' }],
  ['@waitress-proxy/koa', { koa: '^2.16.0 || ^3.0.0', '@types/koa': '^2.13.0 || ^3.0.0' }],
])('%s declares the framework versions it supports as peers', (name, peers) => {
  const manifest = JSON.parse(tarballFile(tarballs.get(name)!, 'package.json')) as PackageManifest;
  expect(manifest.peerDependencies).toEqual(peers);
});

// ---------------------------------------------------------------------------
// The apps. Each prints what a trusted and a forged request saw.

const OPTIONS = `{ trustedProxy: '127.0.0.2', trustedProxyHeaders: 'x-forwarded-for x-forwarded-proto', logger: { warn() {} } }`;

/** Sends the same proxy headers from the trusted 127.0.0.2 and the untrusted 127.0.0.3. */
const CLIENT = `
function get(port, localAddress) {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: '127.0.0.1', port, localAddress, path: '/', agent: false,
        headers: { 'X-Forwarded-For': '203.0.113.7', 'X-Forwarded-Proto': 'https', Connection: 'close' } },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => { body += chunk; });
        response.on('end', () => {
          try { resolve({ status: response.statusCode, ...JSON.parse(body) }); }
          catch { reject(new Error('not JSON: ' + body)); }
        });
      });
    request.setTimeout(10000, () => request.destroy(new Error('no answer in 10 s')));
    request.on('error', reject);
    request.end();
  });
}
async function check(port) {
  return { trusted: await get(port, '127.0.0.2'), forged: await get(port, '127.0.0.3') };
}
function seen(ip, protocol, headers) {
  return { ip, protocol, forwardedFor: headers['x-forwarded-for'] ?? null, forwardedProto: headers['x-forwarded-proto'] ?? null };
}
`;

const EXPECTED = {
  trusted: {
    status: 200,
    ip: '203.0.113.7',
    protocol: 'https',
    forwardedFor: '203.0.113.7',
    forwardedProto: 'https',
  },
  forged: {
    status: 200,
    ip: '127.0.0.3',
    protocol: 'http',
    forwardedFor: null,
    forwardedProto: null,
  },
};

const EXPRESS_APP = `
const app = express();
app.use(waitressProxy(${OPTIONS}));
app.get('/', (req, res) => { res.json(seen(req.ip, req.protocol, req.headers)); });
const server = app.listen(0, '127.0.0.1', () => {
  check(server.address().port).then((result) => { server.close(); console.log(JSON.stringify(result)); },
    (error) => { console.error(error); process.exit(1); });
});
`;

const KOA_APP = `
const app = new Koa();
app.use(waitressProxy(${OPTIONS}));
app.use((ctx) => { ctx.body = seen(ctx.ip, ctx.protocol, ctx.headers); });
const server = app.listen(0, '127.0.0.1', () => {
  check(server.address().port).then((result) => { server.close(); console.log(JSON.stringify(result)); },
    (error) => { console.error(error); process.exit(1); });
});
`;

const CJS = (framework: string, adapter: string, binding: string, app: string): string => `
const http = require('node:http');
const ${binding} = require('${framework}');
const { waitressProxy } = require('${adapter}');
${CLIENT}
${app}`;

const ESM = (framework: string, adapter: string, binding: string, app: string): string => `
import http from 'node:http';
import ${binding} from '${framework}';
import { waitressProxy } from '${adapter}';
${CLIENT}
${app}`;

/**
 * A TCP load balancer at 127.0.0.4 (trusted by `acceptProxyProtocol`) relays
 * two connections with a PROXY v1 header: one from an HTTP proxy, 127.0.0.2,
 * which a `fromFile` range list trusts, so its X-Forwarded-* are used; one
 * from a client, 198.51.100.9, whose forged X-Forwarded-* are removed.
 */
const EDGE_APP = `
import net from 'node:net';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { waitressProxy } from '@waitress-proxy/express';
import { fromFile } from '@waitress-proxy/ranges';
import { acceptProxyProtocol } from '@waitress-proxy/proxy-protocol';

const list = fileURLToPath(new URL('proxies.txt', import.meta.url));
writeFileSync(list, '# our HTTP proxies\\n127.0.0.2\\n');
const proxies = fromFile(list, { format: 'lines', refreshInterval: Infinity, logger: { warn() {} } });
await proxies.ready();

const app = express();
app.use(waitressProxy({ trustedProxy: proxies, trustedProxyHeaders: 'x-forwarded-for x-forwarded-proto', logger: { warn() {} } }));
app.get('/', (req, res) => {
  res.json({ ip: req.ip, protocol: req.protocol, peer: req.forwarded.peerAddress,
    forwardedFor: req.headers['x-forwarded-for'] ?? null, forwardedProto: req.headers['x-forwarded-proto'] ?? null });
});
const server = acceptProxyProtocol(http.createServer(app), { from: '127.0.0.4' });
await new Promise((ready) => server.listen(0, '127.0.0.1', ready));
const { port } = server.address();

function relay(source) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.4' });
    let raw = '';
    socket.setEncoding('utf8');
    socket.setTimeout(10000, () => socket.destroy(new Error('no answer in 10 s')));
    socket.on('data', (chunk) => { raw += chunk; });
    socket.on('error', reject);
    socket.on('end', () => {
      const status = Number(raw.split(' ')[1]);
      try { resolve({ status, ...JSON.parse(raw.slice(raw.indexOf('\\r\\n\\r\\n') + 4)) }); }
      catch { reject(new Error('not JSON: ' + raw)); }
    });
    socket.write('PROXY TCP4 ' + source + ' 127.0.0.1 40000 ' + port + '\\r\\n' +
      'GET / HTTP/1.1\\r\\nHost: app.example\\r\\nX-Forwarded-For: 203.0.113.7\\r\\n' +
      'X-Forwarded-Proto: https\\r\\nConnection: close\\r\\n\\r\\n');
  });
}
const result = { trusted: await relay('127.0.0.2'), forged: await relay('198.51.100.9') };
server.close();
console.log(JSON.stringify(result));
`;

/** Writes `source` into the project and runs it with node; returns what it printed. */
async function runApp(project: string, file: string, source: string): Promise<unknown> {
  writeFileSync(join(project, file), source);
  const { stdout } = await run(process.execPath, [file], { cwd: project, timeoutMs: 30_000 });
  return JSON.parse(stdout);
}

/** The installed version of a package in a project. */
const installedVersion = (project: string, name: string): string =>
  (
    JSON.parse(readFileSync(join(project, 'node_modules', name, 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;

/** Each @waitress-proxy package in the project came from its tarball, not a registry. */
function expectFromTarballs(project: string): void {
  const lock = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { resolved?: string }>;
  };
  const ours = Object.entries(lock.packages).filter(([path]) =>
    path.startsWith('node_modules/@waitress-proxy/'),
  );
  expect(ours.length).toBeGreaterThan(0);
  for (const [path, entry] of ours) {
    expect([path, entry.resolved]).toEqual([path, expect.stringMatching(/^file:.*\.tgz$/)]);
  }
}

describe('installed with npm into fresh projects', () => {
  it('Express 4, CommonJS: the trusted proxy is believed, the forged headers are removed', async () => {
    expect(installedVersion(projectDir('express4'), 'express')).toMatch(/^4\./);
    expectFromTarballs(projectDir('express4'));
    const source = CJS('express', '@waitress-proxy/express', 'express', EXPRESS_APP);
    expect(await runApp(projectDir('express4'), 'app.js', source)).toEqual(EXPECTED);
  }, 30_000);

  it('Express 5, ESM: the trusted proxy is believed, the forged headers are removed', async () => {
    expect(installedVersion(projectDir('express5'), 'express')).toMatch(/^5\./);
    expectFromTarballs(projectDir('express5'));
    const source = ESM('express', '@waitress-proxy/express', 'express', EXPRESS_APP);
    expect(await runApp(projectDir('express5'), 'app.js', source)).toEqual(EXPECTED);
  }, 30_000);

  it.each([
    ['Koa 2', 'koa2', /^2\./],
    ['Koa 3', 'koa3', /^3\./],
  ] as const)(
    '%s, CommonJS and ESM: the trusted proxy is believed, the forged headers are removed',
    async (_, key, version) => {
      const project = projectDir(key);
      expect(installedVersion(project, 'koa')).toMatch(version);
      expectFromTarballs(project);
      expect(
        await runApp(project, 'app.cjs', CJS('koa', '@waitress-proxy/koa', 'Koa', KOA_APP)),
      ).toEqual(EXPECTED);
      expect(
        await runApp(project, 'app.mjs', ESM('koa', '@waitress-proxy/koa', 'Koa', KOA_APP)),
      ).toEqual(EXPECTED);
    },
    60_000,
  );

  it('ranges and proxy-protocol, from their tarballs, behind a TCP load balancer on Express 5', async () => {
    const project = projectDir('express5');
    expectFromTarballs(project);
    expect(await runApp(project, 'edge.js', EDGE_APP)).toEqual({
      trusted: { ...EXPECTED.trusted, peer: '127.0.0.2' },
      forged: { ...EXPECTED.forged, ip: '198.51.100.9', peer: '198.51.100.9' },
    });
  }, 30_000);

  it('the waitress-proxy command runs from its tarball', async () => {
    const bin = join(projectDir('express4'), 'node_modules/.bin/waitress-proxy');
    const explained = await run(
      bin,
      [
        'explain',
        '--trusted-proxy',
        '127.0.0.2',
        '--trusted-proxy-headers',
        'x-forwarded-for',
        '--peer',
        '127.0.0.2',
        '-H',
        'X-Forwarded-For: 203.0.113.7',
        '--json',
      ],
      { cwd: projectDir('express4'), timeoutMs: 20_000 },
    );
    expect(JSON.parse(explained.stdout)).toMatchObject({
      resolution: { ok: true, view: { clientAddress: '203.0.113.7' } },
    });
  }, 30_000);
});

// ---------------------------------------------------------------------------
// Fastify 5 from TypeScript, and every package's declarations.

const FASTIFY_APP = `
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { waitressProxy } from '@waitress-proxy/fastify';
import type { ProxyView, WaitressProxyOptions } from '@waitress-proxy/fastify';

const options: WaitressProxyOptions = ${OPTIONS};
// @ts-expect-error trustedProxyCount is a number: the options are typed, not any.
const wrong: WaitressProxyOptions = { trustedProxyCount: '2' };
void wrong;

interface Seen { status?: number | undefined; ip: string; protocol: string; forwardedFor: string | null; forwardedProto: string | null }

function header(value: string | string[] | undefined): string | null {
  return typeof value === 'string' ? value : null;
}

function get(port: number, localAddress: string): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: '127.0.0.1', port, localAddress, path: '/', agent: false,
        headers: { 'X-Forwarded-For': '203.0.113.7', 'X-Forwarded-Proto': 'https', Connection: 'close' } },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => { body += chunk; });
        response.on('end', () => { resolve({ status: response.statusCode, ...(JSON.parse(body) as Seen) }); });
      });
    request.setTimeout(10000, () => request.destroy(new Error('no answer in 10 s')));
    request.on('error', reject);
    request.end();
  });
}

const app = Fastify();
await app.register(waitressProxy, options);
app.get('/', (request): Seen => {
  const view: ProxyView = request.forwarded;
  if (view.clientAddress !== request.ip) throw new Error('the view and request.ip disagree');
  return { ip: request.ip, protocol: request.protocol, forwardedFor: header(request.headers['x-forwarded-for']), forwardedProto: header(request.headers['x-forwarded-proto']) };
});
await app.listen({ port: 0, host: '127.0.0.1' });
const { port } = app.server.address() as AddressInfo;
const result = { trusted: await get(port, '127.0.0.2'), forged: await get(port, '127.0.0.3') };
await app.close();
console.log(JSON.stringify(result));
`;

/** Every package's exports, touched from ESM (`.d.ts`) and CommonJS (`.d.cts`). */
function declarationChecks(): { esm: string; cjs: string } {
  const names = packages.map((pkg) => pkg.manifest.name);
  const esm = names.map((name, i) => `import * as p${i} from '${name}';`);
  const cjs = names.map((name, i) => `import p${i} = require('${name}');`);
  const use = `export const all: unknown[] = [${names.map((_, i) => `p${i}`).join(', ')}];`;
  const coreIndex = names.indexOf('@waitress-proxy/core');
  const typed =
    coreIndex === -1
      ? ''
      : `
const compiled: p${coreIndex}.CompiledOptions = p${coreIndex}.compileOptions({ trustedProxy: '10.0.0.1' });
const result: p${coreIndex}.Resolution = p${coreIndex}.resolve(compiled, { peerAddress: '10.0.0.1', peerPort: 1, localPort: 80, headers: {}, url: '/', encrypted: false });
export const client: string = result.view.clientAddress;`;
  return {
    esm: [...esm, use, typed].join('\n'),
    cjs: [...cjs, use, typed].join('\n'),
  };
}

function tsconfig(moduleResolution: 'node16' | 'bundler', outDir: string | null): string {
  return JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      lib: ['ES2022'],
      module: moduleResolution === 'node16' ? 'node16' : 'esnext',
      moduleResolution,
      strict: true,
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true,
      skipLibCheck: false,
      types: ['node'],
      ...(outDir === null ? { noEmit: true } : { outDir, rootDir: '.' }),
    },
    files:
      moduleResolution === 'node16'
        ? ['app.ts', 'declarations.ts', 'declarations.cts']
        : ['app.ts', 'declarations.ts'],
  });
}

describe('Fastify 5 from strict TypeScript, and every package’s declarations', () => {
  let project: string;
  beforeAll(() => {
    project = projectDir('fastify5');
    const checks = declarationChecks();
    writeFileSync(join(project, 'app.ts'), FASTIFY_APP);
    writeFileSync(join(project, 'declarations.ts'), checks.esm);
    writeFileSync(join(project, 'declarations.cts'), checks.cjs);
    writeFileSync(join(project, 'tsconfig.node16.json'), tsconfig('node16', 'build'));
    writeFileSync(join(project, 'tsconfig.bundler.json'), tsconfig('bundler', null));
  });

  it('is Fastify 5, installed from the tarballs', () => {
    expect(installedVersion(project, 'fastify')).toMatch(/^5\./);
    expectFromTarballs(project);
  });

  /** Both checks with one compiler: bundler (no output), then node16, whose build then serves. */
  async function compileAndServe(folder: string): Promise<unknown> {
    const tsc = join(project, 'node_modules', folder, 'bin/tsc');
    await run(process.execPath, [tsc, '-p', 'tsconfig.bundler.json'], {
      cwd: project,
      timeoutMs: 120_000,
    });
    const outDir = `build-${folder}`;
    await run(process.execPath, [tsc, '-p', 'tsconfig.node16.json', '--outDir', outDir], {
      cwd: project,
      timeoutMs: 120_000,
    });
    const { stdout } = await run(process.execPath, [join(outDir, 'app.js')], {
      cwd: project,
      timeoutMs: 30_000,
    });
    return JSON.parse(stdout);
  }

  // Both compilers run at once (TypeScript 5.9 on one core, 7 on what is
  // left); each test waits for its own.
  const compiled = new Map<string, Promise<unknown>>();
  beforeAll(() => {
    for (const folder of ['typescript', 'typescript7']) {
      const done = compileAndServe(folder);
      done.catch(() => undefined); // reported by its test
      compiled.set(folder, done);
    }
  });

  it.each([
    ['TypeScript 5.9', 'typescript', TYPESCRIPT],
    ['TypeScript 7', 'typescript7', TYPESCRIPT_7],
  ])(
    '%s: compiles under node16 and bundler, and the node16 build serves',
    async (_, folder, version) => {
      expect(installedVersion(project, folder)).toBe(version);
      expect(await compiled.get(folder)).toEqual(EXPECTED);
    },
    180_000,
  );
});

// ---------------------------------------------------------------------------

it('an npm registry that does not answer fails the install within its deadline, saying why', async () => {
  // A "registry" on loopback that accepts connections and never answers.
  const sockets: Socket[] = [];
  const silent = createServer((socket) => sockets.push(socket));
  await new Promise<void>((ready) => silent.listen(0, '127.0.0.1', ready));
  const { port } = silent.address() as AddressInfo;
  const scratch = mkdtempSync(join(tmpdir(), 'waitress-proxy-offline-'));
  const started = Date.now();
  try {
    const install = installProject(
      join(scratch, 'app'),
      { name: 'offline', private: true },
      ['koa@3'],
      {
        timeoutMs: 15_000,
        fetchTimeoutMs: 2_000,
        env: {
          ...process.env,
          npm_config_registry: `http://127.0.0.1:${port}/`,
          // An empty cache: nothing to fall back on.
          npm_config_cache: join(scratch, 'cache'),
        },
      },
    );
    await expect(install).rejects.toThrow(/npm install[\s\S]*Is the registry reachable\?/);
    expect(Date.now() - started).toBeLessThan(20_000);
  } finally {
    sockets.forEach((socket) => socket.destroy());
    silent.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}, 30_000);
