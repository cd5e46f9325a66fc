/**
 * The demo (`npm run demo`): the Express, Fastify and Koa apps, each with
 * @waitress-proxy's adapter, behind one TLS-terminating front proxy that
 * serves them under /express/, /fastify/ and /koa/. It sends a few requests
 * from distinct loopback addresses, one of them with forged proxy headers and
 * one straight to the apps from an address they do not trust, and prints
 * side by side what each app saw. Exits non-zero if an app saw something it
 * should not have.
 *
 *   tsx src/main.ts            the embedded front proxy (http-proxy-3)
 *   tsx src/main.ts --nginx    the system's nginx instead
 */
import type { WaitressProxyOptions } from '@waitress-proxy/core';
import { APPS, FRAMEWORKS } from './apps/index.js';
import type { AppReport, Framework, RunningApp } from './apps/index.js';
import { makeCertificate } from './certificate.js';
import { request } from './client.js';
import type { Reply } from './client.js';
import { startFrontProxy } from './front-proxy.js';
import type { FrontProxy } from './front-proxy.js';
import { findNginx, startNginx } from './nginx.js';

const USAGE = 'usage: npm run demo [-- --nginx]';

/** What each app is told: the front proxy connects from 127.0.0.1. */
const OPTIONS: WaitressProxyOptions = {
  trustedProxy: '127.0.0.1',
  trustedProxyHeaders: [
    'x-forwarded-for',
    'x-forwarded-host',
    'x-forwarded-proto',
    'x-forwarded-port',
  ],
};

/** Documentation values (RFC 5737, RFC 2606): no traffic goes to them. */
const FORGED_HEADERS = {
  'x-forwarded-for': '203.0.113.66',
  'x-forwarded-host': 'evil.example',
  'x-forwarded-proto': 'http',
  'x-forwarded-port': '4444',
  forwarded: 'for=203.0.113.66;host=evil.example;proto=http',
};

const FORGED_LINES = Object.entries(FORGED_HEADERS)
  .map(([name, value]) => `     ${name}: ${value}`)
  .join('\n');

/** The headers worth showing: Host and every proxy header. */
const SHOWN_HEADERS = [
  'host',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'forwarded',
];

interface Scenario {
  readonly title: string;
  /** The client's source address. */
  readonly from: string;
  readonly send: (framework: Framework, app: RunningApp) => Promise<Reply>;
  /** What every app must have seen. */
  readonly expect: (framework: Framework, app: RunningApp) => Partial<AppReport>;
}

async function main(argv: readonly string[]): Promise<number> {
  const unknown = argv.filter((arg) => arg !== '--nginx');
  if (unknown.length > 0) {
    console.error(`demo: unknown argument ${unknown.join(' ')}\n${USAGE}`);
    return 2;
  }
  const nginx = argv.includes('--nginx') ? findNginx() : undefined;
  if (argv.includes('--nginx') && nginx === undefined) {
    console.error(
      'demo: --nginx needs nginx (Debian/Ubuntu: sudo apt-get install nginx); ' +
        'without --nginx the demo uses its embedded proxy.',
    );
    return 2;
  }

  const certificate = await makeCertificate();
  const apps = new Map<Framework, RunningApp>();
  let front: FrontProxy | undefined;
  try {
    for (const framework of FRAMEWORKS) {
      const start = APPS[framework];
      if (start === undefined) continue;
      apps.set(framework, await start({ ...OPTIONS, urlPrefix: `/${framework}` }));
    }
    const ports = Object.fromEntries(
      [...apps].map(([framework, app]) => [`${framework.toUpperCase()}_PORT`, String(app.port)]),
    );
    front =
      nginx === undefined
        ? await startFrontProxy(
            certificate,
            [...apps].map(([framework, app]) => ({ prefix: `/${framework}`, port: app.port })),
          )
        : await startNginx(nginx, certificate, ports);
    const proxyPort = front.port;
    const ca = certificate.cert;
    const origin = `https://localhost:${proxyPort}`;

    console.log(
      `waitress-proxy demo: ${[...apps.keys()].join(', ')} on 127.0.0.1, each with ` +
        `trustedProxy '127.0.0.1' and urlPrefix '/<framework>', behind ` +
        `${nginx === undefined ? 'an embedded TLS-terminating proxy (http-proxy-3)' : `nginx (${nginx})`} ` +
        `at ${origin}/<framework>/\n`,
    );

    const scenarios: Scenario[] = [
      {
        title: `1. From 127.0.0.2 through the proxy: GET ${origin}/<framework>/whoami`,
        from: '127.0.0.2',
        send: (framework) =>
          request({ port: proxyPort, path: `/${framework}/whoami`, from: '127.0.0.2', ca }),
        expect: (framework) => ({
          clientAddress: '127.0.0.2',
          scheme: 'https',
          host: `localhost:${proxyPort}`,
          port: proxyPort,
          prefix: `/${framework}`,
          url: `${origin}/${framework}/whoami`,
        }),
      },
      {
        title: `2. From 127.0.0.3 through the proxy, with forged headers:\n${FORGED_LINES}`,
        from: '127.0.0.3',
        send: (framework) =>
          request({
            port: proxyPort,
            path: `/${framework}/whoami`,
            from: '127.0.0.3',
            ca,
            headers: FORGED_HEADERS,
          }),
        expect: (framework) => ({
          clientAddress: '127.0.0.3',
          scheme: 'https',
          host: `localhost:${proxyPort}`,
          port: proxyPort,
          url: `${origin}/${framework}/whoami`,
        }),
      },
      {
        title: `3. From 127.0.0.4 straight to each app (an address it does not trust), with the same forged headers`,
        from: '127.0.0.4',
        send: (framework, app) =>
          request({
            port: app.port,
            path: `/${framework}/whoami`,
            from: '127.0.0.4',
            headers: FORGED_HEADERS,
          }),
        expect: (_framework, app) => ({
          clientAddress: '127.0.0.4',
          scheme: 'http',
          host: `localhost:${app.port}`,
          port: app.port,
        }),
      },
    ];

    const problems: string[] = [];
    for (const scenario of scenarios) {
      const reports = new Map<Framework, AppReport>();
      for (const [framework, app] of apps) {
        const reply = await scenario.send(framework, app);
        if (reply.status !== 200) {
          problems.push(
            `${framework}: request ${scenario.from}: status ${reply.status} ${reply.body}`,
          );
          continue;
        }
        const report = JSON.parse(reply.body) as AppReport;
        reports.set(framework, report);
        for (const [field, expected] of Object.entries(scenario.expect(framework, app))) {
          const seen: unknown = report[field as keyof AppReport];
          if (seen !== expected) {
            problems.push(
              `${framework}: request from ${scenario.from}: ${field} is ${JSON.stringify(seen)}, expected ${JSON.stringify(expected)}`,
            );
          }
        }
        const forged = JSON.stringify(report.headers).match(/203\.0\.113\.66|evil\.example/g);
        if (forged !== null) {
          problems.push(
            `${framework}: ${scenario.title}: forged ${forged.join(', ')} reached the app`,
          );
        }
      }
      console.log(scenario.title);
      console.log(table(reports));
      console.log();
    }

    const redirects: string[] = [];
    for (const framework of apps.keys()) {
      const reply = await request({
        port: proxyPort,
        path: `/${framework}/go`,
        from: '127.0.0.5',
        ca,
      });
      const expected = `${origin}/${framework}/whoami`;
      redirects.push(
        `   ${framework.padEnd(8)} ${reply.status} Location: ${reply.headers.location ?? '(none)'}`,
      );
      if (reply.status !== 302 || reply.headers.location !== expected) {
        problems.push(
          `${framework}: /go redirected to ${reply.headers.location ?? '(none)'}, expected ${expected}`,
        );
      }
    }
    console.log(
      `4. From 127.0.0.5 through the proxy: GET ${origin}/<framework>/go (a redirect the app builds)`,
    );
    console.log(`${redirects.join('\n')}\n`);

    if (problems.length > 0) {
      console.log(`UNEXPECTED:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
      return 1;
    }
    console.log(
      'Every app saw the real client address, https, and the host, port and prefix the client ' +
        'used; forged headers changed nothing and did not reach the apps.',
    );
    return 0;
  } finally {
    await front?.close();
    await Promise.all([...apps.values()].map((app) => app.close()));
  }
}

/** Rows of what the apps saw, one column per framework. */
function table(reports: ReadonlyMap<Framework, AppReport>): string {
  const columns = [...reports];
  const value = (text: string | string[] | number | undefined): string =>
    text === undefined ? '(none)' : Array.isArray(text) ? text.join(', ') : String(text);
  const rows: [string, ...string[]][] = [
    ['framework', ...columns.map(([framework]) => framework)],
    ['client address', ...columns.map(([, r]) => value(r.clientAddress))],
    ['scheme', ...columns.map(([, r]) => value(r.scheme))],
    ['host', ...columns.map(([, r]) => value(r.host))],
    ['port', ...columns.map(([, r]) => value(r.port))],
    ['prefix', ...columns.map(([, r]) => value(r.prefix))],
    ['routed path', ...columns.map(([, r]) => value(r.path))],
    ['URL it builds', ...columns.map(([, r]) => value(r.url))],
    ...SHOWN_HEADERS.map((name): [string, ...string[]] => [
      `${name}:`,
      ...columns.map(([, r]) => value(r.headers[name])),
    ]),
  ];
  const widths = (rows[0] ?? ['']).map((_, index) =>
    Math.max(...rows.map((row) => (row[index] ?? '').length)),
  );
  return rows
    .map(
      (row) =>
        `   ${row
          .map((cell, index) => cell.padEnd(widths[index] ?? 0))
          .join('  ')
          .trimEnd()}`,
    )
    .join('\n');
}

// `npm run demo | head` closes stdout early: stop printing, still clean up.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});
// Ctrl-C: exit through 'exit' handlers, which stop nginx.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => process.exit(130));
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error('demo failed:', error);
    process.exitCode = 1;
  },
);
