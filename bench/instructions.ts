/**
 * Instructions per request, per framework and form, counted by valgrind's
 * callgrind: a count, not a time, so it moves far less than time with
 * whatever else the machine is doing, and differences of a thousand
 * instructions between forms show where the end-to-end figures
 * (bench/e2e.ts) drown them in noise. It says nothing of cache misses or of
 * time.
 *
 * Each run starts a form's server (bench/server.ts, the same app as end to
 * end) under callgrind with one count per thread, instrumentation off. It
 * is warmed up with `warm` requests in rounds of `measured`, each round on
 * new connections; then instrumentation goes on, the counters are zeroed
 * (`callgrind_control -i on`, `-z`), `measured` requests are sent on new
 * connections, one more such round, and the counters are dumped
 * (`callgrind_control -d`). The figure is the main thread's instructions
 * over `measured`: the JavaScript, the HTTP parser and the user side of
 * every system call. Each form runs `--runs` times (3 by default), the runs
 * of all forms interleaved; the page gives each form's median, its runs and
 * their spread. docs/instructions.md says why the method is what it is
 * (METHOD_NOTES below): what moved the count from run to run before.
 *
 * Requests come from autocannon in this process (not under valgrind), four
 * connections, the nginx headers of bench/e2e.ts; each server's answer is
 * checked before and after, as end to end.
 *
 * Run: `pnpm bench:instructions [warm] [measured] [frameworks...]
 * [--forms=bare,noop] [--runs=N] [--jobs=N] [--v8="flags"]`, with valgrind
 * installed (Debian's `valgrind`). Writes docs/instructions.md when every
 * framework and form ran; otherwise prints the table only.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { format, resolveConfig } from 'prettier';
import { check, HEADERS, median, nextMessage } from './e2e.js';
import type { RunningServer } from './e2e.js';
import { FORMS, FRAMEWORKS } from './forms.js';
import type { Form, Framework } from './forms.js';

/** Connections autocannon opens per round. */
const DEFAULT_CONNECTIONS = 4;

/**
 * V8's flags for the servers, unless `--v8=` says otherwise: a young
 * generation of one fixed size, so that it does not grow at a point that
 * depends on timing (see METHOD_NOTES for what the runs showed).
 */
const DEFAULT_V8_FLAGS = ['--min-semi-space-size=1', '--max-semi-space-size=1'];

interface Options {
  readonly warm: number;
  readonly measured: number;
  readonly runs: number;
  readonly jobs: number;
  readonly connections: number;
  readonly v8Flags: readonly string[];
  readonly frameworks: readonly Framework[];
  readonly forms: readonly Form[];
  /** Write docs/instructions.md even when not every framework and form ran. */
  readonly write: boolean;
}

interface Count {
  readonly framework: Framework;
  readonly form: Form;
  /** Main-thread instructions per request, one per run, in run order. */
  readonly runs: readonly number[];
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

/** `amount` requests on `CONNECTIONS` new connections. */
async function send(port: number, amount: number, connections: number): Promise<void> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/`,
    headers: HEADERS,
    connections,
    amount,
    timeout: 120,
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

function callgrindControl(option: string[], pid: number): void {
  execFileSync('callgrind_control', [...option, String(pid)], { stdio: 'ignore' });
}

/** One run: a fresh server under callgrind, warmed up, then counted. */
async function countOnce(framework: Framework, form: Form, options: Options): Promise<number> {
  const directory = mkdtempSync(join(tmpdir(), 'waitress-proxy-callgrind-'));
  try {
    const script = fileURLToPath(new URL('./server.ts', import.meta.url));
    const child = spawn(
      'valgrind',
      [
        '--tool=callgrind',
        '--separate-threads=yes',
        // Run the start-up and the warm-up uninstrumented (a few times
        // faster); instrumentation is switched on before the count.
        '--instr-atstart=no',
        `--callgrind-out-file=${join(directory, 'cg.%p')}`,
        process.execPath,
        '--expose-gc',
        ...options.v8Flags,
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
      // The warm-up in rounds as large as the measured window, each on new
      // connections: the first sockets opened after a long run on the same
      // connections deoptimize Node's socket and stream code ("wrong map"),
      // and that must happen here, not in the count.
      for (let left = options.warm; left > 0; left -= options.measured) {
        await send(port, Math.min(left, options.measured), options.connections);
      }
      callgrindControl(['-i', 'on'], pid);
      callgrindControl(['-z'], pid);
      await send(port, options.measured, options.connections);
      callgrindControl(['-d'], pid);
      await check(server);
    } finally {
      child.disconnect();
      await exited;
    }
    return mainThreadTotal(directory, pid) / options.measured;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/**
 * Every run of every form: the runs of one form are spread over the whole
 * session (run 1 of every form, then run 2...), `jobs` servers at a time.
 */
async function countAll(options: Options): Promise<Count[]> {
  const pairs = options.frameworks.flatMap((framework) =>
    options.forms.map((form) => ({ framework, form, runs: [] as number[] })),
  );
  const queue = Array.from({ length: options.runs }, () => pairs).flat();
  const worker = async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const perRequest = await countOnce(next.framework, next.form, options);
      next.runs.push(perRequest);
      console.log(
        `${next.framework} ${next.form} run ${String(next.runs.length)}: ` +
          `${Math.round(perRequest).toString()} instructions per request`,
      );
    }
  };
  await Promise.all(Array.from({ length: options.jobs }, worker));
  return pairs;
}

/** (highest - lowest) / median. */
function spreadOf(values: readonly number[]): number {
  return (Math.max(...values) - Math.min(...values)) / median(values);
}

interface Session {
  readonly options: Options;
  readonly counts: readonly Count[];
  readonly valgrind: string;
  readonly minutes: number;
  /** The machine's 1-minute load average, lowest and highest seen during the session. */
  readonly load: readonly [number, number];
}

function renderMarkdown({ options, counts, valgrind, minutes, load }: Session): string {
  const { warm, measured, runs, jobs, connections, v8Flags } = options;
  const lines = [
    '# Instructions per request',
    '',
    '<!-- Generated by `pnpm bench:instructions` (bench/instructions.ts); do not edit. -->',
    '',
    `Counted on ${new Date().toISOString().slice(0, 10)} with ${valgrind} (callgrind), Node ` +
      `${process.version}, the apps and headers of the end-to-end benchmark ` +
      '([performance.md](performance.md)), in ' +
      `${String(Math.round(minutes))} minutes (${String(jobs)} server${jobs === 1 ? '' : 's'} ` +
      `at a time; load average ${load[0].toFixed(1)} to ${load[1].toFixed(1)} on ` +
      `${String(cpus().length)} CPUs). Each form ran ${String(runs)} times, each time in a ` +
      `fresh server under callgrind, with V8's \`${v8Flags.join(' ') || '(no flags)'}\`: ` +
      `${String(warm)} requests to warm up, in rounds of ${String(measured)} on new ` +
      'connections, then two full garbage collections, then the main thread’s instructions ' +
      `over ${String(measured)} more requests (${String(connections)} connection${connections === 1 ? '' : 's'}). The ` +
      'figure is the median of the runs; **spread** is (highest − lowest) ÷ median.',
    '',
    'A count, not a time: it says nothing of cache misses, which make the same instructions ' +
      'slower inside a server than in a loop. Before the method below, a Fastify `onRequest` hook came out about 50,000 instructions per request apart ' +
      'from one run to the next; that jump is gone, smaller movements are not (see the notes ' +
      'below the table): read the runs column before reading a difference smaller than the ' +
      'spread.',
    '',
    '| Framework | Form | Instructions per request | Spread | Runs | vs bare | Added over bare |',
    '| --- | --- | ---: | ---: | --- | ---: | ---: |',
  ];
  for (const framework of FRAMEWORKS) {
    const bare = counts.find((c) => c.framework === framework && c.form === 'bare');
    const bareMedian = bare === undefined ? undefined : median(bare.runs);
    for (const c of counts.filter((entry) => entry.framework === framework)) {
      const middle = median(c.runs);
      const ratio = bareMedian === undefined ? '' : `${((100 * bareMedian) / middle).toFixed(1)}%`;
      const added = bareMedian === undefined ? '' : Math.round(middle - bareMedian).toString();
      lines.push(
        `| ${framework} | ${c.form} | ${Math.round(middle).toString()} | ` +
          `${(100 * spreadOf(c.runs)).toFixed(2)}% | ` +
          `${c.runs.map((value) => Math.round(value).toString()).join(', ')} | ${ratio} | ${added} |`,
      );
    }
  }
  lines.push(
    '',
    '"vs bare" is the bare median over the form\'s: the throughput ratio the form would have ' +
      'if time followed instructions.',
    '',
    ...METHOD_NOTES,
    '',
  );
  return lines.join('\n');
}

/**
 * Why the method is what it is. Measured by hand on 2026-12-07 with this
 * file and two scratch copies (not kept): a server run normally with
 * `--trace-opt --trace-deopt`, and callgrind dumps read with
 * callgrind_annotate. Every callgrind run here was made on a loaded 2-core
 * machine (load average 7 to 22, other helpers' work and 3 or 4 of these
 * servers at a time). Fastify's noop form unless said otherwise.
 */
const METHOD_NOTES = [
  '## Why this method',
  '',
  'Measured on 2026-12-07 (by hand, Fastify’s noop form unless said otherwise, all on a ' +
    'loaded 2-core machine: load average 7 to 22, three or four of these servers at a time).',
  '',
  '- **New connections in every warm-up round.** The count used to warm up with 6000 ' +
    'requests on the same four connections, then count 2000 on four new ones. A server run ' +
    'normally with `--trace-opt --trace-deopt` showed what that does: the first sockets opened ' +
    "after the warm-up deoptimize about 20 functions of Node's socket, stream and HTTP code " +
    '(`wrong map`: sockets made later have another hidden class), in all three frameworks, so ' +
    'the counted requests ran deoptimized code until the compiler thread had optimized it ' +
    'again, and how soon that happened under valgrind depended on scheduling. In callgrind, 73% ' +
    'of such a window was under Sparkplug’s baseline code. That was the jump: 107,840 and ' +
    '157,467 in two runs on an idle machine; 110,665, 111,425 and 114,179 here. With the ' +
    'warm-up in three rounds of 2000, each on new connections, the counted requests (one more ' +
    'such round) saw no deoptimization in Fastify and one to three, the same in every run, in ' +
    'Koa and Express.',
  '- **A fixed young generation** (`--min-semi-space-size=1 --max-semi-space-size=1`, MB). ' +
    'With the rounds alone and V8’s defaults, runs still came out in two states: 86,081, ' +
    '88,112, 88,875 in one batch, then bare Fastify at 79,638 and 119,605 and noop at 81,539 ' +
    'and 121,754 in the next. With the young generation fixed, one batch agreed (81,931, ' +
    '82,962, 82,986: spread 1.3%), but the next came out higher and still jumped once: bare ' +
    '89,135 and 87,629, noop 92,606 and 93,937, trust 153,464 and 147,130, adapter 100,416 ' +
    'and 118,333, then (third runs, the four forms at the same time) 82,313, 81,764, ' +
    '140,952 and 90,439: runs made at the same time moved together, which points at work ' +
    'that follows the wall clock or the scheduling. Adding `--no-concurrent-recompilation`: 92,346, 88,713, 93,070. So the ' +
    'count does not hold still yet: the jump of 50,000 is gone, but on a loaded machine runs ' +
    'still move by 5 to 10% from batch to batch and now and then by about 18,000 (what moves ' +
    'was not found: V8’s young-generation sizing and pretenuring, which follow what survives ' +
    'each scavenge, and timers, which follow the wall clock, are the suspects left). Until ' +
    'then: several runs, the median, and a look at the runs column before reading a ' +
    'difference smaller than the spread.',
  '- **Tried and left out.** `--single-threaded` (compiling and collecting on the main ' +
    'thread, all counted): 123,242, 125,058, 127,945, higher and no steadier; without the ' +
    'rounds, 213,439. `--single-threaded-gc`: 118,892, 145,319, 146,636 (incremental marking ' +
    'and a full collection land in some windows and not in others). One connection instead ' +
    'of four: 93,583 to 98,187. Two full collections (`gc()`) just before the count: ' +
    'about 203,000, since a forced collection threw away optimized code and the counted ' +
    'requests re-optimized 80 to 90 functions.',
  '- **Instrumentation on for the count only** (`--instr-atstart=no`, then ' +
    '`callgrind_control -i on`): the start-up and the warm-up run several times faster, and ' +
    'what the server does is the same.',
  '- **Load.** All of the figures above were measured on a loaded machine, with several of ' +
    'these servers at a time: the method is meant not to depend on load, and it held there; ' +
    'it has not been compared with an idle machine’s runs. Compare forms within one run.',
  '- Run one framework or form: `pnpm bench:instructions [warm] [measured] [frameworks...] ' +
    '[--forms=bare,noop] [--runs=N] [--jobs=N] [--connections=N] [--v8="flags"]`; a run of ' +
    'fewer than all frameworks and forms prints its table and leaves this page alone ' +
    '(unless given `--write`). ' +
    '`--v8=""` gives V8’s defaults, to see the difference.',
];

function parseOptions(argv: readonly string[]): Options {
  const flags = new Map<string, string>();
  const positional: string[] = [];
  let write = false;
  for (const arg of argv) {
    if (arg === '--write') {
      write = true;
      continue;
    }
    const flag = /^--([a-z0-9]+)=(.*)$/.exec(arg);
    if (flag?.[1] !== undefined && flag[2] !== undefined) flags.set(flag[1], flag[2]);
    else positional.push(arg);
  }
  for (const name of flags.keys()) {
    if (!['runs', 'jobs', 'connections', 'forms', 'v8'].includes(name))
      throw new Error(`unknown option --${name}`);
  }
  const [warmArg, measuredArg, ...names] = positional;
  const integer = (text: string | undefined, fallback: number, least: number): number => {
    const value = text === undefined ? fallback : Number(text);
    if (!Number.isInteger(value) || value < least) {
      throw new Error(`expected a whole number of at least ${String(least)}, got ${String(text)}`);
    }
    return value;
  };
  const frameworks = names.length === 0 ? FRAMEWORKS : (names as Framework[]);
  for (const name of frameworks) {
    if (!FRAMEWORKS.includes(name)) throw new Error(`unknown framework ${name}`);
  }
  const forms = (flags.get('forms')?.split(',') ?? FORMS) as Form[];
  for (const name of forms) {
    if (!FORMS.includes(name)) throw new Error(`unknown form ${name}`);
  }
  const v8 = flags.get('v8');
  return {
    warm: integer(warmArg, 6000, 0),
    measured: integer(measuredArg, 2000, 1),
    runs: integer(flags.get('runs'), 3, 1),
    jobs: integer(flags.get('jobs'), 2, 1),
    connections: integer(flags.get('connections'), DEFAULT_CONNECTIONS, 1),
    v8Flags: v8 === undefined ? DEFAULT_V8_FLAGS : v8.split(/\s+/).filter((flag) => flag !== ''),
    frameworks,
    forms,
    write,
  };
}

const options = parseOptions(process.argv.slice(2));
const valgrind = valgrindVersion();
const started = performance.now();
const loads: number[] = [loadavg()[0] ?? 0];
const sampler = setInterval(() => loads.push(loadavg()[0] ?? 0), 10_000);
const counts = await countAll(options);
clearInterval(sampler);
const session: Session = {
  options,
  counts,
  valgrind,
  minutes: (performance.now() - started) / 60_000,
  load: [Math.min(...loads), Math.max(...loads)],
};
const whole =
  options.frameworks.length === FRAMEWORKS.length && options.forms.length === FORMS.length;
const path = fileURLToPath(new URL('../docs/instructions.md', import.meta.url));
const markdown = await format(renderMarkdown(session), {
  ...(await resolveConfig(path)),
  filepath: path,
});
if (whole || options.write) {
  writeFileSync(path, markdown);
  console.log('wrote docs/instructions.md');
} else {
  console.log(markdown);
}
