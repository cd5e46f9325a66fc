/**
 * The proxies the suite starts, each in its own process group so that
 * stopping it also stops its workers (nginx's, Apache's). Every daemon is
 * registered until it has exited: `stopAll` (from afterAll) and, as a last
 * resort, the worker's `exit` handler kill what is left, so a failing test
 * never leaves a proxy listening.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

export interface Daemon {
  readonly name: string;
  readonly pid: number;
  /** What the daemon wrote to stdout and stderr so far (the last 64 KiB). */
  output(): string;
  /** Whether the process has exited (by itself or stopped). */
  readonly exited: boolean;
  /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves on exit. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<DaemonProcess>();
const OUTPUT_LIMIT = 64 * 1024;

class DaemonProcess implements Daemon {
  readonly pid: number;
  private text = '';
  private exitCode: number | null | undefined;
  private readonly exit: Promise<void>;

  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    if (child.pid === undefined) throw new Error(`${name}: the process did not start`);
    this.pid = child.pid;
    const collect = (chunk: Buffer): void => {
      this.text = (this.text + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exit = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code;
        if (code !== 0 && signal === null) collect(Buffer.from(`\n[${name} exited with ${code}]`));
        running.delete(this);
        resolve();
      });
    });
  }

  output(): string {
    return this.text;
  }

  get exited(): boolean {
    return this.exitCode !== undefined;
  }

  async stop(graceMs = 5000): Promise<void> {
    if (this.exited) return;
    signalGroup(this.pid, 'SIGTERM');
    const timer = setTimeout(() => {
      signalGroup(this.pid, 'SIGKILL');
    }, graceMs);
    await this.exit;
    clearTimeout(timer);
    // Workers outlive a killed master only if they ignore its death; make sure.
    signalGroup(this.pid, 'SIGKILL');
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    // ESRCH: the group is gone already.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Starts `command` in a new process group with its output captured. */
export function startDaemon(
  name: string,
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Daemon {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const daemon = new DaemonProcess(name, child);
  running.add(daemon);
  return daemon;
}

/** Stops every daemon this worker started that is still running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((daemon) => daemon.stop()));
}

process.once('exit', () => {
  for (const daemon of running) signalGroup(daemon.pid, 'SIGKILL');
});
