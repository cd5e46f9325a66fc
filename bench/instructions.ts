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
 * of all forms interleaved, one server at a time unless `--jobs` says
 * otherwise; a run in the slow-literal state (SLOW_LITERAL) is discarded and
 * run again. The page gives each form's median, its runs, their spread and
 * the discarded runs. docs/instructions.md says why the method is what it is
 * (METHOD_NOTES below): what moved the count from run to run before.
 *
 * Requests come from autocannon in this process (not under valgrind), four
 * connections, the nginx headers of bench/e2e.ts; each server's answer is
 * checked before and after, as end to end.
 *
 * Run: `pnpm bench:instructions [warm] [measured] [frameworks...]
 * [--forms=bare,noop] [--runs=N] [--jobs=N] [--v8="flags"] [--keep=DIR]`, with valgrind
 * installed (Debian's `valgrind`). Writes docs/instructions.md when every
 * framework and form ran; otherwise prints the table only.
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
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
  /** Where to keep each run's callgrind dump (for callgrind_annotate), if anywhere. */
  readonly keep: string | undefined;
}

interface Count {
  readonly framework: Framework;
  readonly form: Form;
  /** Main-thread instructions per request, one per run, in run order. */
  readonly runs: readonly number[];
  /** Runs that came out in the slow-literal state, discarded and run again. */
  readonly discarded: readonly number[];
}

/** One run's result. */
interface Run {
  /** Main-thread instructions per request. */
  readonly perRequest: number;
  /**
   * Instructions per request spent in V8's runtime function for object
   * literals with computed keys (inclusive): about zero in a normal run,
   * about 38,000 in the slow-literal state (see SLOW_LITERAL).
   */
  readonly slowLiteral: number;
}

/**
 * V8's runtime function that defines a property of an object literal with a
 * computed key when the literal's inline cache cannot. Node's
 * `process.nextTick` makes such a literal (its tick object has two symbol
 * keys) several times per request. In some server processes, at random, that
 * cache never settles, and every tick object goes through this function and
 * a map migration: 30,000 to 40,000 instructions more per request, whatever
 * the form, for the whole count (METHOD_NOTES).
 */
const SLOW_LITERAL = 'Runtime_DefineKeyedOwnPropertyInLiteral';

/** Above this many instructions per request in SLOW_LITERAL, a run is discarded. */
const SLOW_LITERAL_LIMIT = 1000;

/** How many times one run is tried before its slow-literal result is kept (and marked). */
const MAX_ATTEMPTS = 6;

/** The inclusive instructions of `name` in a callgrind dump (0 when it never ran). */
function inclusiveCost(dump: string, name: string): number {
  const text = execFileSync('callgrind_annotate', ['--inclusive=yes', '--threshold=100', dump], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  for (const line of text.split('\n')) {
    if (!line.includes(name)) continue;
    const cost = /^\s*([\d,]+)/.exec(line)?.[1];
    if (cost !== undefined) return Number(cost.replaceAll(',', ''));
  }
  return 0;
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
async function countOnce(framework: Framework, form: Form, options: Options): Promise<Run> {
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
    const total = mainThreadTotal(directory, pid);
    const dump = join(directory, `cg.${String(pid)}.1-01`);
    if (options.keep !== undefined) {
      mkdirSync(options.keep, { recursive: true });
      const stamp = `${framework}-${form}-${String(Math.round(total / options.measured))}-${String(pid)}`;
      copyFileSync(dump, join(options.keep, `${stamp}.out`));
    }
    return {
      perRequest: total / options.measured,
      slowLiteral: inclusiveCost(dump, SLOW_LITERAL) / options.measured,
    };
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
    options.forms.map((form) => ({
      framework,
      form,
      runs: [] as number[],
      discarded: [] as number[],
    })),
  );
  const queue = Array.from({ length: options.runs }, () => pairs).flat();
  const worker = async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      for (let attempt = 1; ; attempt++) {
        const run = await countOnce(next.framework, next.form, options);
        const slow = run.slowLiteral > SLOW_LITERAL_LIMIT;
        const label =
          `${next.framework} ${next.form} run ${String(next.runs.length + 1)}: ` +
          `${Math.round(run.perRequest).toString()} instructions per request`;
        if (slow && attempt < MAX_ATTEMPTS) {
          next.discarded.push(run.perRequest);
          console.log(
            `${label}, discarded: slow-literal state ` +
              `(${Math.round(run.slowLiteral).toString()} per request in ${SLOW_LITERAL})`,
          );
          continue;
        }
        next.runs.push(run.perRequest);
        console.log(
          slow ? `${label}, slow-literal state (kept: ${String(attempt)} attempts)` : label,
        );
        break;
      }
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
      'connections, then the main thread’s instructions over ' +
      `${String(measured)} more requests (${String(connections)} connection${connections === 1 ? '' : 's'}). ` +
      'The figure is the median of the runs; **spread** is (highest − lowest) ÷ median. A run ' +
      'that came out in the slow-literal state (about 30,000 to 40,000 instructions more, in ' +
      'Node’s `process.nextTick`, whatever the form: see the notes) was discarded and run again; ' +
      '**discarded** lists those runs.',
    '',
    'A count, not a time: it says nothing of cache misses, which make the same instructions ' +
      'slower inside a server than in a loop. Read the runs column before reading a difference ' +
      'smaller than the spread.',
    '',
    '| Framework | Form | Instructions per request | Spread | Runs | Discarded | vs bare | Added over bare |',
    '| --- | --- | ---: | ---: | --- | --- | ---: | ---: |',
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
          `${c.runs.map((value) => Math.round(value).toString()).join(', ')} | ` +
          `${c.discarded.map((value) => Math.round(value).toString()).join(', ')} | ${ratio} | ${added} |`,
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
 * Why the method is what it is. Measured by hand on 2026-12-07 with this file
 * (`--keep=DIR` keeps each run's dump), callgrind_annotate, and V8's
 * `--perf-basic-prof` map to name the JIT-compiled functions in a dump.
 */
const METHOD_NOTES = [
  '## Why this method',
  '',
  'Measured on 2026-12-07, by hand, mostly on Fastify’s noop and adapter forms.',
  '',
  '- **New connections in every warm-up round.** The count used to warm up with 6000 ' +
    'requests on the same four connections, then count 2000 on four new ones. A server run ' +
    'normally with `--trace-opt --trace-deopt` showed what that does: the first sockets opened ' +
    "after the warm-up deoptimize about 20 functions of Node's socket, stream and HTTP code " +
    '(`wrong map`: sockets made later have another hidden class), in all three frameworks, so ' +
    'the counted requests ran deoptimized code until the compiler thread had optimized it ' +
    'again. With the warm-up in rounds, each on new connections, the counted requests (one ' +
    'more such round) see none of that in Fastify and one to three deoptimizations, the same ' +
    'in every run, in Koa and Express.',
  '- **The slow-literal state, discarded.** Even so, a run now and then came out about ' +
    '40,000 instructions per request higher (Fastify’s adapter 128,842 against 89,320; its ' +
    'noop 120,817 against 82,174), in the noop form as in the adapter, and in streaks: several in a row, then none ' +
    'for a whole table. Callgrind’s dumps of a high and a low run, function by function, ' +
    'differ in one place: the high one spends about 38,000 instructions per request (nearly ' +
    'the whole difference) in V8’s `Runtime_DefineKeyedOwnPropertyInLiteral`, which migrates ' +
    'objects to new maps, called from ' +
    '`process.nextTick` (Node’s tick object is an object literal with two symbol keys, made ' +
    'several times per request), where the low one spends none. A process in that state ' +
    'stays in it for the whole count, and the form does not decide it. So each run’s dump is read for that function: a run ' +
    'that spends more than 1,000 instructions per request in it is discarded and run again ' +
    '(up to six times; a run still in that state is kept and marked), and the table lists ' +
    'the discarded runs. The 50,000-instruction jump of earlier runs, which the old notice ' +
    'put down to the hook, was this state or the deoptimizations above.',
  '- **One server at a time** (`--jobs=1`, the default). On an idle machine, one at a time, ' +
    'the runs of a form that were not discarded agreed within about 1% (Fastify bare 81,086, ' +
    '81,857 and 81,036; noop 83,087, 82,070 and 82,290). Two or more at a time, and with ' +
    'other work on the machine, runs moved by 5 to 10% from batch to batch.',
  '- **A fixed young generation** (`--min-semi-space-size=1 --max-semi-space-size=1`, MB), ' +
    'so that V8 does not resize it at a point that depends on timing.',
  '- **Tried and left out.** `--single-threaded` (compiling and collecting on the main ' +
    'thread, all counted): higher and no steadier. `--single-threaded-gc`: incremental ' +
    'marking and a full collection land in some windows and not in others. Two full ' +
    'collections (`gc()`) just before the count: a forced collection threw away optimized ' +
    'code and the counted requests re-optimized 80 to 90 functions.',
  '- **Instrumentation on for the count only** (`--instr-atstart=no`, then ' +
    '`callgrind_control -i on`): the start-up and the warm-up run several times faster, and ' +
    'what the server does is the same.',
  '- Run one framework or form: `pnpm bench:instructions [warm] [measured] [frameworks...] ' +
    '[--forms=bare,noop] [--runs=N] [--jobs=N] [--connections=N] [--v8="flags"] ' +
    '[--keep=DIR]`; a run of fewer than all frameworks and forms prints its table and leaves ' +
    'this page alone (unless given `--write`). `--v8=""` gives V8’s defaults; `--keep=DIR` ' +
    'keeps every dump, for callgrind_annotate (add `--perf-basic-prof` to `--v8` to name the ' +
    'JavaScript functions from /tmp/perf-PID.map).',
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
    if (!['runs', 'jobs', 'connections', 'forms', 'v8', 'keep'].includes(name))
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
    jobs: integer(flags.get('jobs'), 1, 1),
    connections: integer(flags.get('connections'), DEFAULT_CONNECTIONS, 1),
    v8Flags: v8 === undefined ? DEFAULT_V8_FLAGS : v8.split(/\s+/).filter((flag) => flag !== ''),
    frameworks,
    forms,
    write,
    keep: flags.get('keep'),
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
