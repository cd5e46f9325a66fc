/**
 * What a framework adapter provides to join the conformance matrix, and the
 * runner that plays every row of `cases.ts` against it over real sockets.
 */
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
import { makeCertificate } from '../../examples/demo/src/certificate.js';
import type { Certificate } from '../../examples/demo/src/certificate.js';
import { CASES, LOCAL_PORT, PEER_PORT } from './cases.js';
import type { ConformanceCase, ExpectedView } from './cases.js';
import { close, listen, send, sendH2, withHost } from './client.js';
import type { AnyServer, ListenHost } from './client.js';

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
  /**
   * How the runner reaches the server: HTTP/1.1 (the default), HTTP/2
   * without TLS (`http2.createServer`), or HTTP/2 over TLS
   * (`http2.createSecureServer` with `testCertificate()` and `allowHTTP1`),
   * and HTTP/1.1 to that same TLS server.
   */
  readonly transport?: Transport;
  createServer(options: WaitressProxyOptions): AnyServer | Promise<AnyServer>;
}

export type Transport = 'http/1.1' | 'h2c' | 'h2 over TLS' | 'http/1.1 over TLS with allowHTTP1';

/** The transports on a TLS server (`http2.createSecureServer` with `allowHTTP1`). */
function overTlsTransport(transport: Transport | undefined): boolean {
  return transport === 'h2 over TLS' || transport === 'http/1.1 over TLS with allowHTTP1';
}

let certificate: Promise<Certificate> | undefined;

/** The certificate of every TLS server in the matrix (for `localhost`; the runner trusts it). */
export function testCertificate(): Promise<Certificate> {
  certificate ??= makeCertificate();
  return certificate;
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
    const rows = overTlsTransport(harness.transport) ? CASES.flatMap(overTls) : CASES;
    describe.each(LISTEN_HOSTS)('server listening on %s', (listenHost) => {
      it.each(rows.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
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
  const transport = harness.transport ?? 'http/1.1';
  const path = row.path ?? '/';
  const lines = withHost(row.headers ?? []);
  try {
    const ca = overTlsTransport(transport) ? (await testCertificate()).cert : undefined;
    const http2 = transport === 'h2c' || transport === 'h2 over TLS';
    const exchange = http2
      ? await sendH2(port, row.peer, path, lines, ca)
      : await send(port, row.peer, path, lines, ca);

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
    // Prove the transport: HTTP/2 requests carry their pseudo-headers. :scheme
    // is the connection's, or the scheme a trusted proxy forwarded (it
    // follows a forwarded proto as :authority follows a forwarded host).
    const connectionScheme = transport === 'h2c' ? 'http' : 'https';
    if (!http2) {
      expect(seen.headers[':scheme']).toBeUndefined();
    } else if (seen.headers[':scheme'] !== connectionScheme) {
      expect(seen.headers[':scheme']).toBe(seen.view.scheme);
      expect(seen.view.peerTrusted).toBe(true);
    }
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
      if (name === 'host' && http2) {
        // Over HTTP/2 the request's host is :authority; Host is there only
        // when a forwarded host set it, and then the two agree.
        expect({ ':authority': seen.headers[':authority'] }).toEqual({ ':authority': value });
        expect([undefined, value]).toContainEqual(seen.headers.host);
        continue;
      }
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

/**
 * A row as it reads over TLS: a scheme the connection gave is `https`. Rows
 * from a trusted peer whose scheme or port a header could have set while
 * they expect `http` (a trusted `http` proto, a forwarded port whose default
 * depends on the scheme) are about plain connections: they run over
 * HTTP/1.1 and h2c only.
 */
function overTls(row: ConformanceCase): ConformanceCase[] {
  if (!('view' in row.expected) || row.expected.view.scheme !== 'http') return [row];
  // An untrusted peer's headers are never read: its scheme is the connection's.
  const headerMayDecide = (row.headers ?? []).some((line) => /proto|port|forwarded:/i.test(line));
  if (row.expected.view.peerTrusted && headerMayDecide) return [];
  const { app } = row.expected;
  return [
    {
      ...row,
      expected: {
        ...row.expected,
        view: { ...row.expected.view, scheme: 'https' },
        ...(app === undefined
          ? {}
          : {
              app: {
                ...app,
                ...(app.protocol === undefined ? {} : { protocol: 'https' }),
                ...(app.url === undefined ? {} : { url: app.url.replace(/^http:/, 'https:') }),
              },
            }),
      },
    },
  ];
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
