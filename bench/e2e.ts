/**
 * End to end, per framework: the same app in three forms (bench/server.ts),
 * loaded by autocannon from this process over 127.0.0.1 only, with the
 * headers nginx sends (examples/nginx) from a loopback peer, which the
 * trust form and our adapter trust.
 *
 * Every run starts a fresh server process and warms it up before it is
 * measured: on this kind of machine two identical server processes can
 * settle 20% apart for their whole life, so a form measured in one process
 * only would carry that process's luck. Forms take turns within every
 * round, in a rotated order, so drift hits them alike. Where `taskset`
 * exists, the servers run on the last CPU and autocannon on the first, so
 * the scheduler does not move them onto each other.
 *
 * The server, not autocannon, must be what limits the rate, or the ratios
 * measure the load generator. So autocannon spends its CPU on load only:
 * each run's answer is checked by a request of its own before the warm-up
 * and after the measured load (a form that answered the wrong client,
 * scheme or host fails the run), every response of the load must be a 2xx,
 * and the report gives how busy the server's CPU was.
 *
 * Run alone: `pnpm bench:e2e [rounds] [seconds] [connections] [frameworks...]`.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { FORMS, FRAMEWORKS } from './forms.js';
import type { Form, Framework, ServerStats } from './forms.js';

export { FORMS, FRAMEWORKS };

/** What nginx's example configuration sends, from the address it connects from. */
export const HEADERS = {
  host: 'shop.example',
  'x-forwarded-for': '203.0.113.7',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'shop.example:443',
  'x-forwarded-port': '443',
} as const;

/** What the app must answer in each form. */
const EXPECTED: Readonly<Record<Form, string>> = {
  bare: JSON.stringify({ ip: '127.0.0.1', protocol: 'http', hostname: 'shop.example' }),
  noop: JSON.stringify({ ip: '127.0.0.1', protocol: 'http', hostname: 'shop.example' }),
  trust: JSON.stringify({ ip: '203.0.113.7', protocol: 'https', hostname: 'shop.example' }),
  adapter: JSON.stringify({ ip: '203.0.113.7', protocol: 'https', hostname: 'shop.example' }),
};

export interface E2eOptions {
  readonly rounds: number;
  readonly seconds: number;
  readonly connections: number;
  readonly warmupSeconds: number;
}

export interface E2eRun {
  readonly requestsPerSecond: number;
  readonly p99Ms: number;
  readonly cpuMicrosPerRequest: number;
  /** The server's CPU time over the run's wall time: near 1 when the server limits the rate. */
  readonly serverBusy: number;
}

export interface E2eForm {
  readonly form: Form;
  readonly runs: readonly E2eRun[];
  readonly medianRequestsPerSecond: number;
  readonly medianP99Ms: number;
  readonly medianCpuMicrosPerRequest: number;
  readonly medianServerBusy: number;
  /** medianRequestsPerSecond / the bare form's. */
  readonly ratioToBare: number;
  /**
   * The lowest and highest of the per-round ratios: the form's req/s in a
   * round over bare's in the same round (forms take turns within a round).
   */
  readonly ratioRange: readonly [number, number];
  /** (highest - lowest req/s) / medianRequestsPerSecond, over the rounds. */
  readonly spread: number;
}

export interface E2eResult {
  readonly framework: Framework;
  readonly forms: readonly E2eForm[];
}

export interface RunningServer {
  readonly form: Form;
  readonly child: ChildProcess;
  readonly port: number;
}

/** The next IPC message of a server process; fails if it exits first. */
export function nextMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onExit = (code: number | null) => {
      reject(new Error(`server exited (${String(code)}) before answering`));
    };
    child.once('exit', onExit);
    child.once('message', (value) => {
      child.off('exit', onExit);
      resolve(value as T);
    });
  });
}

/**
 * The CPUs this process may use, read once at start: after `pinThisProcess`
 * `availableParallelism()` answers 1 (it reads the affinity mask), and the
 * servers would be pinned onto autocannon's CPU.
 */
const CPUS = availableParallelism();

/** `taskset`, when present and there are two CPUs or more to split. */
const TASKSET = (() => {
  if (CPUS < 2) return undefined;
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return 'taskset';
  } catch {
    return undefined;
  }
})();

/** Where the servers run and where autocannon (this process) runs. */
export const PINNING =
  TASKSET === undefined
    ? 'not pinned (no taskset)'
    : `servers on CPU ${CPUS - 1}, autocannon on CPU 0 (taskset)`;

let pinned = false;
function pinThisProcess(): void {
  if (TASKSET === undefined || pinned) return;
  execFileSync(TASKSET, ['-a', '-cp', '0', String(process.pid)], { stdio: 'ignore' });
  pinned = true;
}

export async function start(framework: Framework, form: Form): Promise<RunningServer> {
  const script = fileURLToPath(new URL('./server.ts', import.meta.url));
  const node = [process.execPath, '--expose-gc', '--import', 'tsx', script, framework, form];
  const [command = '', ...args] =
    TASKSET === undefined ? node : [TASKSET, '-c', String(CPUS - 1), ...node];
  const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await nextMessage<number>(child);
  return { form, child, port };
}

export async function stop(server: RunningServer): Promise<void> {
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.disconnect();
  await exited;
}

export async function stats(server: RunningServer): Promise<ServerStats> {
  const reply = nextMessage<ServerStats>(server.child);
  server.child.send('stats');
  return reply;
}

/** One request with the nginx headers; the body must be the form's answer. */
export function check(server: RunningServer): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: server.port, path: '/', headers: HEADERS },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          if (body === EXPECTED[server.form]) resolve();
          else
            reject(
              new Error(`${server.form}: answered ${body}, expected ${EXPECTED[server.form]}`),
            );
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

export async function load(
  server: RunningServer,
  seconds: number,
  connections: number,
): Promise<autocannon.Result> {
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}/`,
    headers: HEADERS,
    connections,
    duration: seconds,
  });
  if (result.non2xx !== 0 || result.errors !== 0) {
    throw new Error(`${server.form}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  }
  return result;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const at = (index: number): number => sorted[index] ?? Number.NaN;
  return sorted.length % 2 === 1 ? at(middle) : (at(middle - 1) + at(middle)) / 2;
}

/** (highest - lowest) / median: how far apart the rounds came out. */
export function spread(values: readonly number[]): number {
  return (Math.max(...values) - Math.min(...values)) / median(values);
}

export async function runFramework(
  framework: Framework,
  options: E2eOptions,
  log: (line: string) => void = () => undefined,
): Promise<E2eResult> {
  pinThisProcess();
  const runs = new Map<Form, E2eRun[]>(FORMS.map((form) => [form, []]));
  for (let round = 0; round < options.rounds; round++) {
    for (let turn = 0; turn < FORMS.length; turn++) {
      const form = FORMS[(round + turn) % FORMS.length] ?? 'bare';
      const server = await start(framework, form);
      try {
        await check(server);
        await load(server, options.warmupSeconds, options.connections);
        const before = await stats(server);
        const result = await load(server, options.seconds, options.connections);
        const after = await stats(server);
        await check(server);
        runs.get(form)?.push({
          requestsPerSecond: result.requests.average,
          p99Ms: result.latency.p99,
          cpuMicrosPerRequest: (after.cpuMicros - before.cpuMicros) / result.requests.total,
          serverBusy: (after.cpuMicros - before.cpuMicros) / (result.duration * 1e6),
        });
      } finally {
        await stop(server);
      }
    }
    log(`${framework}: round ${round + 1}/${options.rounds}`);
  }

  const bareRuns = (runs.get('bare') ?? []).map((run) => run.requestsPerSecond);
  const bare = median(bareRuns);
  return {
    framework,
    forms: FORMS.map((form) => {
      const formRuns = runs.get(form) ?? [];
      const rps = median(formRuns.map((run) => run.requestsPerSecond));
      const roundRatios = formRuns.map(
        (run, round) => run.requestsPerSecond / (bareRuns[round] ?? Number.NaN),
      );
      return {
        form,
        runs: formRuns,
        medianRequestsPerSecond: rps,
        medianP99Ms: median(formRuns.map((run) => run.p99Ms)),
        medianCpuMicrosPerRequest: median(formRuns.map((run) => run.cpuMicrosPerRequest)),
        medianServerBusy: median(formRuns.map((run) => run.serverBusy)),
        ratioToBare: rps / bare,
        ratioRange: [Math.min(...roundRatios), Math.max(...roundRatios)],
        spread: spread(formRuns.map((run) => run.requestsPerSecond)),
      };
    }),
  };
}

export function printFramework(result: E2eResult): void {
  console.log(result.framework);
  console.table(
    result.forms.map((form) => ({
      form: form.form,
      'median req/s': Math.round(form.medianRequestsPerSecond),
      'ratio to bare': Number(form.ratioToBare.toFixed(3)),
      'round ratios': `${form.ratioRange[0].toFixed(3)}-${form.ratioRange[1].toFixed(3)}`,
      spread: `${(form.spread * 100).toFixed(1)}%`,
      'p99 ms': form.medianP99Ms,
      'CPU µs/req': Number(form.medianCpuMicrosPerRequest.toFixed(1)),
      'server busy': `${Math.round(form.medianServerBusy * 100)}%`,
      runs: form.runs.map((run) => Math.round(run.requestsPerSecond)).join(' '),
    })),
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [rounds = '5', seconds = '2', connections = '32', ...names] = process.argv.slice(2);
  const frameworks = names.length > 0 ? (names as Framework[]) : FRAMEWORKS;
  for (const framework of frameworks) {
    const result = await runFramework(
      framework,
      {
        rounds: Number(rounds),
        seconds: Number(seconds),
        connections: Number(connections),
        warmupSeconds: 0.5,
      },
      (line) => {
        console.error(line);
      },
    );
    printFramework(result);
  }
}
