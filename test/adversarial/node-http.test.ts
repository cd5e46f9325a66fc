/**
 * The adversarial corpus over real sockets, through a plain
 * `http.createServer` that uses the core as the README's quick start does;
 * and what Node's own HTTP parser does to hostile bytes before any
 * middleware runs (repeated lines joined with ", ", CR/LF/NUL refused with
 * 400, oversized headers refused with 431).
 */
import { createServer } from 'node:http';
import { connect as http2Connect, createServer as createHttp2Server } from 'node:http2';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { applyHeaderChanges, compileOptions, requestInput, resolve } from '@waitress-proxy/core';
import {
  BACKEND_HOST,
  CLIENT,
  CORPUS,
  FORGED,
  NODE_MAX_HEADER_SIZE,
  PROXY,
  STRANGER,
  xffOfHeaderSize,
} from './corpus.js';
import { close, listen, observationBody, runCaseOverSocket, sendRaw } from './wire.js';
import type { ServerFactory } from './wire.js';

const plainNode: ServerFactory = (options, maxHeaderSize) => {
  const compiled = compileOptions({ ...options, logger: { warn: () => undefined } });
  return createServer(
    maxHeaderSize === undefined ? {} : { maxHeaderSize },
    (req: IncomingMessage, res: ServerResponse) => {
      // As the README's quick start does it.
      const result = resolve(compiled, requestInput(req));
      applyHeaderChanges(req, result.headerChanges);
      if (!result.ok) {
        res.writeHead(result.error.statusCode).end(result.error.message);
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(observationBody({ ...result.view }, req));
    },
  );
};

describe('adversarial corpus over real sockets: plain Node http server and the core', () => {
  it.each(CORPUS.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await runCaseOverSocket(c, plainNode);
  });
});

describe("Node's HTTP parser, before any middleware", () => {
  /** A server that records what reached it and echoes the headers. */
  function echoServer() {
    const reached: IncomingMessage[] = [];
    const server = createServer((req, res) => {
      reached.push(req);
      res.end(JSON.stringify({ headers: req.headers, rawHeaders: req.rawHeaders }));
    });
    return { server, reached };
  }

  it('joins repeated X-Forwarded-For, X-Forwarded-Proto and Forwarded lines with ", " and keeps the first Host', async () => {
    const { server } = echoServer();
    const endpoint = await listen(server);
    try {
      const response = await sendRaw(endpoint, STRANGER, [
        ['Host', BACKEND_HOST],
        ['Host', 'evil.example'],
        ['X-Forwarded-For', FORGED],
        ['x-forwarded-for', CLIENT],
        ['X-Forwarded-Proto', 'https'],
        ['X-Forwarded-Proto', 'http'],
        ['Forwarded', `for=${FORGED}`],
        ['Forwarded', `for=${CLIENT}`],
      ]);
      const { headers } = JSON.parse(response.body) as { headers: Record<string, string> };
      expect(headers).toMatchObject({
        host: BACKEND_HOST,
        'x-forwarded-for': `${FORGED}, ${CLIENT}`,
        'x-forwarded-proto': 'https, http',
        forwarded: `for=${FORGED}, for=${CLIENT}`,
      });
    } finally {
      await close(server, endpoint);
    }
  });

  it.each([
    ['CR', '\r'],
    ['LF', '\n'],
    ['NUL', '\u0000'],
  ])('answers a %s inside a header value with 400 and never calls the app', async (_name, byte) => {
    const { server, reached } = echoServer();
    const endpoint = await listen(server);
    try {
      const response = await sendRaw(endpoint, STRANGER, [
        ['Host', BACKEND_HOST],
        ['X-Forwarded-For', `${CLIENT}${byte}X-Injected: 1`],
      ]);
      expect(response.status).toBe(400);
      expect(reached).toHaveLength(0);
    } finally {
      await close(server, endpoint);
    }
  });

  it(`accepts header lines of exactly http.maxHeaderSize (${NODE_MAX_HEADER_SIZE} bytes) and refuses 64 bytes more with 431`, async () => {
    const { server, reached } = echoServer();
    const endpoint = await listen(server);
    const lines = (xff: string) =>
      [
        ['Host', BACKEND_HOST],
        ['X-Forwarded-For', xff],
        ['Connection', 'close'],
      ] as const;
    try {
      const atLimit = xffOfHeaderSize(NODE_MAX_HEADER_SIZE);
      const size = lines(atLimit).reduce((sum, [n, v]) => sum + n.length + v.length + 4, 2);
      expect(size).toBe(NODE_MAX_HEADER_SIZE);
      expect((await sendRaw(endpoint, STRANGER, lines(atLimit))).status).toBe(200);
      const over = xffOfHeaderSize(NODE_MAX_HEADER_SIZE + 64);
      expect((await sendRaw(endpoint, STRANGER, lines(over))).status).toBe(431);
      expect(reached).toHaveLength(1);
    } finally {
      await close(server, endpoint);
    }
  });
});

describe('HTTP/2 through the core', () => {
  it('a forwarded host sets :authority, Host and the request authority alike', async () => {
    const compiled = compileOptions({
      trustedProxy: PROXY,
      trustedProxyHeaders: ['x-forwarded-host'],
      logger: { warn: () => undefined },
    });
    const server = createHttp2Server((req, res) => {
      applyHeaderChanges(req, resolve(compiled, requestInput(req)).headerChanges);
      const raw: string[] = [];
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i]?.toLowerCase();
        if (name === 'host' || name === ':authority') raw.push(`${name}=${req.rawHeaders[i + 1]}`);
      }
      res.end(
        JSON.stringify({
          host: req.headers.host,
          authority: req.headers[':authority'],
          requestAuthority: req.authority,
          raw,
        }),
      );
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const { port } = server.address() as AddressInfo;
    const session = http2Connect(`http://127.0.0.1:${port}`, {
      // From the trusted proxy's loopback address.
      createConnection: () => connect({ host: '127.0.0.1', port, localAddress: PROXY }),
    });
    try {
      const body = await new Promise<string>((done, fail) => {
        const stream = session.request({ ':path': '/', 'x-forwarded-host': 'app.example' });
        let text = '';
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => (text += chunk));
        stream.on('end', () => {
          done(text);
        });
        stream.on('error', fail);
      });
      expect(JSON.parse(body)).toEqual({
        host: 'app.example',
        authority: 'app.example',
        requestAuthority: 'app.example',
        raw: [':authority=app.example', 'host=app.example'],
      });
    } finally {
      session.close();
      await new Promise<void>((done) =>
        server.close(() => {
          done();
        }),
      );
    }
  });
});
