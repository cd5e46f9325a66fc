/**
 * The adversarial corpus over real sockets, through a plain
 * `http.createServer` that uses the core as the README's quick start does;
 * and what Node's own HTTP parser does to hostile bytes before any
 * middleware runs (repeated lines joined with ", ", CR/LF/NUL refused with
 * 400, oversized headers refused with 431).
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { applyHeaderChanges, compileOptions, resolve } from '@waitress-proxy/core';
import {
  BACKEND_HOST,
  CLIENT,
  CORPUS,
  FORGED,
  NODE_MAX_HEADER_SIZE,
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
      const result = resolve(compiled, {
        peerAddress: req.socket.remoteAddress,
        peerPort: req.socket.remotePort,
        localPort: req.socket.localPort,
        encrypted: 'encrypted' in req.socket,
        headers: req.headers,
        url: req.url ?? '/',
      });
      if (!result.ok) {
        res.writeHead(result.error.statusCode).end(result.error.message);
        return;
      }
      applyHeaderChanges(req, result.headerChanges);
      res.setHeader('content-type', 'application/json');
      res.end(observationBody({ ...result.view }, req.headers));
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
