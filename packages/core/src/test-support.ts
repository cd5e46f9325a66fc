/**
 * Helpers for the core's unit tests (not exported from index.ts, not part of
 * the package's API): run one request through compile + resolve + header
 * changes, the way an adapter would.
 */
import { applyHeaderChanges } from './headers.js';
import { compileOptions } from './options.js';
import type { ProxyLogger, WaitressProxyOptions } from './options.js';
import { resolve } from './resolve.js';
import type { ProxyView, RequestInput } from './resolve.js';

/** A logger that keeps what it was told. */
export class RecordingLogger implements ProxyLogger {
  readonly messages: string[] = [];
  warn(message: string): void {
    this.messages.push(message);
  }
}

export interface TestRequest {
  /** `socket.remoteAddress`; default `127.0.0.1`. `null` for a Unix socket. */
  readonly peer?: string | null;
  readonly peerPort?: number;
  /** Default 8080, as waitress's test environ. */
  readonly localPort?: number;
  readonly encrypted?: boolean;
  readonly headers?: Record<string, string>;
  /** Default `/`. */
  readonly url?: string;
}

export type TestOutcome =
  | {
      readonly view: ProxyView;
      /** The request headers after the changes were applied. */
      readonly headers: Record<string, string | string[] | undefined>;
      readonly rawHeaders: string[];
      readonly warnings: string[];
    }
  | { readonly malformed: string; readonly message: string; readonly warnings: string[] };

/**
 * Node's view of `request`: lower-case names in `headers`, as sent in
 * `rawHeaders`, and the `resolve` input an adapter would build.
 */
export function testInput(request: TestRequest = {}): {
  input: RequestInput;
  headers: Record<string, string | string[] | undefined>;
  rawHeaders: string[];
} {
  const rawHeaders: string[] = [];
  const headers: Record<string, string | string[] | undefined> = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    rawHeaders.push(name, value);
    headers[name.toLowerCase()] = value;
  }
  const input: RequestInput = {
    peerAddress: request.peer === null ? undefined : (request.peer ?? '127.0.0.1'),
    peerPort: request.peerPort ?? 50000,
    localPort: request.localPort ?? 8080,
    encrypted: request.encrypted ?? false,
    headers,
    url: request.url ?? '/',
  };
  return { input, headers, rawHeaders };
}

/** Compiles `options` and resolves `request` as an adapter would. */
export function runRequest(options: WaitressProxyOptions, request: TestRequest = {}): TestOutcome {
  const logger = new RecordingLogger();
  const compiled = compileOptions({ logger, ...options });
  const { input, headers, rawHeaders } = testInput(request);
  const result = resolve(compiled, input);
  if (!result.ok) {
    return {
      malformed: 'header' in result.error ? result.error.header : result.error.name,
      message: result.error.message,
      warnings: logger.messages,
    };
  }
  const message = { headers, rawHeaders };
  applyHeaderChanges(message, result.headerChanges);
  return { view: result.view, headers, rawHeaders, warnings: logger.messages };
}

/** One table row: a configuration, a request, and what must come of it. */
export interface Row {
  readonly name: string;
  readonly options: WaitressProxyOptions;
  readonly request: TestRequest;
  /** Expected view fields and header values after the changes (undefined = removed), or the malformed header. */
  readonly expected: Expected;
}

export type Expected =
  | {
      readonly view?: Record<string, unknown>;
      readonly headers?: Record<string, string | undefined>;
      readonly warnings?: number;
    }
  | { readonly malformed: string };

/** Asserts an outcome; header expectations are checked in `headers` and `rawHeaders`. */
export function expectOutcome(outcome: TestOutcome, expected: Expected): void {
  if ('malformed' in expected) {
    expect(outcome).toMatchObject({
      malformed: expected.malformed,
      message: `Header "${expected.malformed}" malformed.`,
    });
    return;
  }
  if ('malformed' in outcome) throw new Error(`unexpected 400: ${outcome.message}`);
  if (expected.view) expect(outcome.view).toMatchObject(expected.view);
  for (const [name, value] of Object.entries(expected.headers ?? {})) {
    expect([name, outcome.headers[name]]).toEqual([name, value]);
    const raw = outcome.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    expect([name, raw.includes(name)]).toEqual([name, value !== undefined]);
  }
  if (expected.warnings !== undefined) expect(outcome.warnings).toHaveLength(expected.warnings);
}
