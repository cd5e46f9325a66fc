/**
 * What a framework adapter provides to join the conformance matrix, and the
 * runner that plays every row of `cases.ts` against it over real sockets.
 */
import type { Server } from 'node:http';
import {
  HostNotAllowedError,
  MalformedProxyHeaderError,
  TooManyHeadersError,
} from '@waitress-proxy/core';
import type {
  ProxyLogger,
  ProxyRequestError,
  ProxyView,
  WaitressProxyOptions,
} from '@waitress-proxy/core';
import { CASES, LOCAL_PORT, PEER_PORT } from './cases.js';
import type { ConformanceCase, ExpectedView } from './cases.js';
import { close, listen, send, withHost } from './client.js';
import type { ListenHost } from './client.js';

/**
 * The framework's own request properties, read through the framework's API
 * after the adapter ran, in common names.
 */
export interface AppFacing {
  /** Express `req.ip`, Koa `ctx.ip`, Fastify `request.ip`. */
  readonly ip: string;
  /** Express `req.ips`, Koa `ctx.ips`, Fastify `request.ips`. */
  readonly ips: readonly string[];
  readonly protocol: string;
  readonly secure: boolean;
  /** The host name without port (Express `req.hostname`). */
  readonly hostname: string | undefined;
  /** The host with its port, as the app reads it (Express 5 `req.host`, `req.get('host')`). */
  readonly host: string | undefined;
  /** The URL the client used, as an app builds it (`${protocol}://${host}${originalUrl}`). */
  readonly url: string;
  /** The path the framework's router matched (Express `req.path` in the app). */
  readonly path: string;
}

/** What the app answers for a request that reached it. */
export interface Observation {
  /** The adapter's view as the framework exposes it (`req.forwarded`). */
  readonly view: ProxyView;
  readonly app: AppFacing;
  /** The request's headers after the adapter (`req.headers`). */
  readonly headers: Readonly<Record<string, string | string[]>>;
  /** The request's raw header lines after the adapter (`req.rawHeaders`). */
  readonly rawHeaders: readonly string[];
  /** `socket.remoteAddress` and `socket.remotePort` as Node reported them. */
  readonly socket: { readonly remoteAddress: string; readonly remotePort: number };
}

/** An error the core raises for a request: a 400 for a malformed header or a refused host, a 431. */
export function isAdapterError(error: unknown): error is ProxyRequestError {
  return (
    error instanceof MalformedProxyHeaderError ||
    error instanceof HostNotAllowedError ||
    error instanceof TooManyHeadersError
  );
}

/** What the app's error handler answers for an error the adapter raised. */
export interface ErrorReport {
  readonly error: {
    readonly name: string;
    readonly message: string;
    readonly status: number;
    readonly expose: boolean;
  };
}

/**
 * One framework (and version) under test. `createServer` builds an app that
 * installs the adapter with `options` first, then answers every GET path
 * with an `Observation` as JSON, and renders errors through the framework's
 * own error path (not around it) as an `ErrorReport` with the error's status.
 * The runner listens on the returned server and closes it.
 */
export interface Harness {
  readonly name: string;
  createServer(options: WaitressProxyOptions): Server | Promise<Server>;
}

/** A logger that keeps what it was told, so rows can assert warnings. */
export class RecordingLogger implements ProxyLogger {
  readonly messages: string[] = [];
  warn(message: string): void {
    this.messages.push(message);
  }
}

const LISTEN_HOSTS: readonly ListenHost[] = ['127.0.0.1', '::'];

/** Registers the whole matrix for `harness`, on both listening forms. */
export function describeConformance(harness: Harness): void {
  describe(`${harness.name}: conformance matrix`, () => {
    describe.each(LISTEN_HOSTS)('server listening on %s', (listenHost) => {
      it.each(CASES.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
        await runCase(harness, listenHost, row);
      });
    });
  });
}

async function runCase(
  harness: Harness,
  listenHost: ListenHost,
  row: ConformanceCase,
): Promise<void> {
  const logger = new RecordingLogger();
  const server = await harness.createServer({ logger, ...row.options });
  const port = await listen(server, listenHost);
  try {
    const exchange = await send(port, row.peer, row.path ?? '/', withHost(row.headers ?? []));

    if ('malformed' in row.expected) {
      expect({ status: exchange.status, report: parse(exchange.body) as ErrorReport }).toEqual({
        status: 400,
        report: {
          error: {
            name: 'MalformedProxyHeaderError',
            message: `Header "${row.expected.malformed}" malformed.`,
            status: 400,
            expose: true,
          },
        },
      });
      // The log line adds what the response leaves out: the peer.
      expect(logger.messages).toContainEqual(
        expect.stringContaining(`"${row.expected.malformed}" from "${row.peer}"`),
      );
      return;
    }

    if ('refused' in row.expected) {
      const { status, message } = row.expected.refused;
      expect({ status: exchange.status, report: parse(exchange.body) as ErrorReport }).toEqual({
        status,
        report: {
          error: { name: expect.any(String) as unknown, message, status, expose: true },
        },
      });
      return;
    }

    expect(exchange.status).toBe(200);
    const seen = parse(exchange.body) as Observation;
    // Every row runs on both listening forms: prove which one it was.
    expect(seen.socket.remoteAddress).toBe(listenHost === '::' ? `::ffff:${row.peer}` : row.peer);

    const expected = row.expected;
    expect(seen.view).toEqual(expectedView(expected.view, port, seen.socket.remotePort));
    if (expected.app !== undefined) expect(seen.app).toMatchObject(expected.app);
    // The framework's properties follow the view, whatever the row.
    expect(seen.app).toMatchObject({
      ip: seen.view.clientAddress,
      ips: seen.view.ips,
      protocol: seen.view.scheme,
      secure: seen.view.scheme === 'https',
    });
    expect(seen.app.hostname).toBe(seen.view.hostname);
    expect(seen.app.host).toBe(seen.view.host);

    for (const [name, value] of Object.entries(expected.headers ?? {})) {
      expect({ [name]: seen.headers[name] }).toEqual({ [name]: value });
      expect({ [name]: rawLines(seen.rawHeaders, name) }).toEqual({
        [name]: value === undefined ? [] : [value],
      });
    }
    if (expected.warnings !== undefined) {
      expect(logger.messages).toEqual(
        expected.warnings.map((w): unknown => expect.stringContaining(w)),
      );
    }
  } finally {
    await close(server);
  }
}

/** The row's expected view with the sentinels replaced by this run's ports. */
function expectedView(view: ExpectedView, localPort: number, peerPort: number): ProxyView {
  return {
    ...view,
    port: view.port === LOCAL_PORT ? localPort : view.port,
    clientPort: view.clientPort === PEER_PORT ? peerPort : view.clientPort,
  };
}

/** The values of every raw header line named `name`, whatever its case. */
function rawLines(rawHeaders: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === name) values.push(rawHeaders[i + 1]!);
  }
  return values;
}

function parse(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new Error(`response is not JSON: ${body.slice(0, 500)}`);
  }
}
