/**
 * `waitress-proxy explain`, as a function of its arguments and streams, so
 * tests run it as the command does and the bin only wires the process.
 */
import {
  compileOptions,
  explain,
  formatExplanation,
  WaitressProxyConfigError,
} from '@waitress-proxy/core';
import type { Explanation } from '@waitress-proxy/core';
import { parseCommand, USAGE, UsageError } from './arguments.js';

/**
 * What the command reads and writes, so it runs the same in the bin
 * (`process.env`, standard input, `process.stdout`/`stderr`) and in a test.
 */
export interface CommandIo {
  /** The environment: `WAITRESS_PROXY_*` variables give the configuration's defaults. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Standard input, read whole (for `--request -`). */
  readonly readInput: () => string;
  /** Receives the explanation (text, or JSON with `--json`) and `--help`. */
  readonly stdout: (text: string) => void;
  /** Receives start-up warnings and the message for a bad flag or configuration. */
  readonly stderr: (text: string) => void;
}

/** Exit statuses: resolved, refused by the app (400/431), bad configuration or usage. */
export const EXIT = {
  /** 0: the request resolves (the app would serve it). */
  resolved: 0,
  /** 1: the app would refuse it (a malformed proxy header, a host not allowed, too many header lines). */
  refused: 1,
  /** 2: a configuration that cannot work, or a bad flag; the message says what to change. */
  invalid: 2,
} as const;

/** Runs the command; returns the exit status. */
export function runCommand(argv: readonly string[], io: CommandIo): number {
  try {
    const command = parseCommand(argv, io.readInput, io.env);
    if (command.help) {
      io.stdout(`${USAGE}\n`);
      return EXIT.resolved;
    }
    const warnings: string[] = [];
    // Start-up warnings (the default trust) go with the output, not to the console.
    const options = compileOptions({
      ...command.options,
      logger: { warn: (message) => warnings.push(message) },
    });
    const explanation = explain(options, command.input);
    if (command.json) {
      io.stdout(`${JSON.stringify(jsonOf(explanation, warnings), null, 2)}\n`);
    } else {
      for (const warning of warnings) io.stderr(`${warning}\n`);
      io.stdout(`${formatExplanation(explanation)}\n`);
    }
    return explanation.resolution.ok ? EXIT.resolved : EXIT.refused;
  } catch (error) {
    if (error instanceof UsageError || error instanceof WaitressProxyConfigError) {
      io.stderr(`waitress-proxy: ${error.message.replace(/^waitress-proxy: /, '')}\n`);
      return EXIT.invalid;
    }
    throw error;
  }
}

/** The explanation as plain JSON: the error as its fields, which JSON would drop. */
function jsonOf(explanation: Explanation, startupWarnings: readonly string[]): unknown {
  const { resolution } = explanation;
  const error = resolution.ok
    ? undefined
    : {
        name: resolution.error.name,
        code: resolution.error.code,
        statusCode: resolution.error.statusCode,
        message: resolution.error.message,
        ...('header' in resolution.error
          ? { header: resolution.error.header, reason: resolution.error.reason }
          : {}),
      };
  return {
    ...explanation,
    resolution: { ...resolution, ...(error === undefined ? {} : { error }) },
    warnings: [...startupWarnings, ...explanation.warnings],
  };
}
