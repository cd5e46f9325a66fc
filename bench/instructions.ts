/**
 * Instructions per request, per framework and form, counted by valgrind's
 * callgrind: a count, not a time, so it moves far less than time with
 * whatever else the machine is doing, and differences of a thousand
 * instructions between forms show where the end-to-end figures
 * (bench/e2e.ts) drown them in noise. It says nothing of cache misses or of
 * time.
 *
 * Each form's server (bench/server.ts, the same app as end to end) runs
 * under callgrind with one count per thread. It is warmed up with `warm`
 * requests, so V8 has optimized what it will; then its counters are zeroed
 * (`callgrind_control -z`), `measured` requests are sent and the counters
 * are dumped (`callgrind_control -d`). The figure is the main thread's
 * instructions over `measured`: the JavaScript, the HTTP parser and the
 * user side of every system call. The helper threads (V8's compiler and
 * collector) are left out: how much of their work falls inside the
 * measured window depends on timing. Repeated runs of one form, one after
 * the other on an otherwise idle machine, agreed within half a percent;
 * runs made while other work loaded the machine came out up to 3% apart
 * (V8's compiler and collector threads then finish at other points). So:
 * run it on an idle machine, and compare forms within one run.
 *
 * Requests come from autocannon in this process (not under valgrind), four
 * connections, the nginx headers of bench/e2e.ts; each server's answer is
 * checked first, as end to end.
 *
 * Run: `pnpm bench:instructions [warm] [measured] [frameworks...]`, with
 * valgrind installed (Debian's `valgrind`). A server under callgrind runs
 * about 50 times slower: the default 6000 + 2000 requests take about 15
 * minutes for the three frameworks. Writes docs/instructions.md.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { format, resolveConfig } from 'prettier';
import { check, HEADERS, nextMessage } from './e2e.js';
import type { RunningServer } from './e2e.js';
import { FORMS, FRAMEWORKS } from './forms.js';
import type { Form, Framework } from './forms.js';

const CONNECTIONS = 4;

interface Count {
  readonly framework: Framework;
  readonly form: Form;
  /** Main-thread instructions per request. */
  readonly perRequest: number;
}

function valgrindVersion(): string {
  try {
    return execFileSync('valgrind', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      'pnpm bench:instructions needs valgrind (Debian: apt-get install -y valgrind).',
    );
  }
}

async function send(port: number, amount: number): Promise<void> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/`,
    headers: HEADERS,
    connections: CONNECTIONS,
    amount,
    timeout: 60,
  });
  if (result.non2xx !== 0 || result.errors !== 0 || result.timeouts !== 0) {
    throw new Error(
      `${String(result.non2xx)} non-2xx, ${String(result.errors)} errors, ` +
        `${String(result.timeouts)} timeouts`,
    );
  }
}

/** The `totals:` line of the main thread's dump (thread 01). */
function mainThreadTotal(directory: string, pid: number): number {
  const dump = readdirSync(directory).find((name) => name === `cg.${String(pid)}.1-01`);
  if (dump === undefined) throw new Error(`callgrind wrote no dump for ${String(pid)}`);
  const line = /^totals:\s+(\d+)/m.exec(readFileSync(join(directory, dump), 'utf8'));
  if (line?.[1] === undefined) throw new Error(`no totals line in ${dump}`);
  return Number(line[1]);
}

async function count(
  framework: Framework,
  form: Form,
  warm: number,
  measured: number,
): Promise<Count> {
  const directory = mkdtempSync(join(tmpdir(), 'waitress-proxy-callgrind-'));
  try {
    const script = fileURLToPath(new URL('./server.ts', import.meta.url));
    const child = spawn(
      'valgrind',
      [
        '--tool=callgrind',
        '--separate-threads=yes',
        `--callgrind-out-file=${join(directory, 'cg.%p')}`,
        process.execPath,
        '--expose-gc',
        '--import',
        'tsx',
        script,
        framework,
        form,
      ],
      { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] },
    );
    const pid = child.pid;
    if (pid === undefined) throw new Error('valgrind did not start');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      const port = await nextMessage<number>(child);
      const server: RunningServer = { form, child, port };
      await check(server);
      await send(port, warm);
      execFileSync('callgrind_control', ['-z', String(pid)], { stdio: 'ignore' });
      await send(port, measured);
      execFileSync('callgrind_control', ['-d', String(pid)], { stdio: 'ignore' });
      await check(server);
    } finally {
      child.disconnect();
      await exited;
    }
    return { framework, form, perRequest: mainThreadTotal(directory, pid) / measured };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

function renderMarkdown(
  counts: readonly Count[],
  warm: number,
  measured: number,
  valgrind: string,
): string {
  const lines = [
    '# Instructions per request',
    '',
    '<!-- Generated by `pnpm bench:instructions` (bench/instructions.ts); do not edit. -->',
    '',
    `Counted on ${new Date().toISOString().slice(0, 10)} with ${valgrind} (callgrind), Node ` +
      `${process.version}, the apps and headers of the end-to-end benchmark ` +
      '([performance.md](performance.md)). Each form ran in its own server under callgrind: ' +
      `${String(warm)} requests to warm up, then the main thread's instructions over ` +
      `${String(measured)} requests (${String(CONNECTIONS)} connections). V8's helper ` +
      'threads are left out. A count, not a time: it does not move with the load on the ' +
      'machine as much as time does (repeated runs of one form on an idle machine agreed within ' +
      'half a percent; runs made while other work loaded it, up to 3% apart: compare forms ' +
      'within one run) and says ' +
      'nothing of cache misses, which make the same instructions slower inside a server ' +
      'than in a loop.',
    '',
    '| Framework | Form | Instructions per request | vs bare | Added over bare |',
    '| --- | --- | ---: | ---: | ---: |',
  ];
  for (const framework of FRAMEWORKS) {
    const bare = counts.find((c) => c.framework === framework && c.form === 'bare');
    for (const c of counts.filter((entry) => entry.framework === framework)) {
      const ratio =
        bare === undefined ? '' : `${((100 * bare.perRequest) / c.perRequest).toFixed(1)}%`;
      const added = bare === undefined ? '' : Math.round(c.perRequest - bare.perRequest).toString();
      lines.push(
        `| ${framework} | ${c.form} | ${Math.round(c.perRequest).toString()} | ${ratio} | ${added} |`,
      );
    }
  }
  lines.push(
    '',
    '"vs bare" is the bare count over the form\'s: the throughput ratio the form would have ' +
      'if time followed instructions.',
    '',
  );
  return lines.join('\n');
}

const [warmArg, measuredArg, ...names] = process.argv.slice(2);
const warm = Number(warmArg ?? 6000);
const measured = Number(measuredArg ?? 2000);
const frameworks = names.length === 0 ? FRAMEWORKS : (names as Framework[]);
for (const name of frameworks) {
  if (!FRAMEWORKS.includes(name)) throw new Error(`unknown framework ${name}`);
}
const valgrind = valgrindVersion();
const counts: Count[] = [];
for (const framework of frameworks) {
  for (const form of FORMS) {
    const result = await count(framework, form, warm, measured);
    console.log(`${framework} ${form}: ${Math.round(result.perRequest).toString()} instructions`);
    counts.push(result);
  }
}
const path = fileURLToPath(new URL('../docs/instructions.md', import.meta.url));
const markdown = await format(renderMarkdown(counts, warm, measured, valgrind), {
  ...(await resolveConfig(path)),
  filepath: path,
});
writeFileSync(path, markdown);
console.log('wrote docs/instructions.md');
