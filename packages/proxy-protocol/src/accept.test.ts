/**
 * `acceptProxyProtocol` over real sockets on loopback: the attacks first
 * (a client sending its own header, a trusted peer without one, lies,
 * truncation, oversize, slowloris), then the honest load balancer on every
 * server kind (http, https, h2c, h2 over TLS). Clients pick their source
 * address in 127.0.0.0/8 with `localAddress`: 127.0.0.2 plays the load
 * balancer, 127.0.0.3 a client that reaches the app directly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { connect, createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import fc from 'fast-check';
import {
  compileOptions,
  PROXY_PROTOCOL_PEER,
  requestInput,
  resolve,
  WaitressProxyConfigError,
} from '@waitress-proxy/core';
import { makeCertificate } from '../../../examples/demo/src/certificate.js';
import { acceptProxyProtocol } from './index.js';
import { readProxyHeader } from './header.js';

const LOAD_BALANCER = '127.0.0.2';
const silent = { warn: () => undefined };
const DIRECT_CLIENT = '127.0.0.3';

const SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

function v2(versionCommand: number, family: number, body: Buffer, declared = body.length): Buffer {
  const fixed = Buffer.from([versionCommand, family, 0, 0]);
  fixed.writeUInt16BE(declared, 2);
  return Buffer.concat([SIGNATURE, fixed, body]);
}

function v2Tcp4(source: number[], port: number): Buffer {
  const body = Buffer.alloc(12);
  body.set(source, 0);
  body.set([10, 0, 0, 1], 4);
  body.writeUInt16BE(port, 8);
  body.writeUInt16BE(443, 10);
  return v2(0x21, 0x11, body);
}

const request = (path: string, close = false, body = ''): string =>
  `POST ${path} HTTP/1.1\r\nHost: app.example\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
  `${close ? 'Connection: close\r\n' : ''}\r\n${body}`;

/** What the handler saw of one request. */
interface Seen {
  readonly url: string;
  /** The peer the engine takes (`requestInput`). */
  readonly peerAddress: string | null;
  readonly peerPort: number | null;
  /** The load balancer's own address: the socket's peer. */
  readonly socketAddress: string | null;
  readonly body: string;
}

type Kind = 'http' | 'https' | 'h2c' | 'h2';

interface Running {
  readonly port: number;
  readonly server: Server;
  /** How many requests reached the handler. */
  handled: number;
}

let tls: { key: string; cert: string };
const running: Running[] = [];

beforeAll(async () => {
  tls = await makeCertificate();
});

afterAll(async () => {
  await Promise.all(
    running.map(
      (app) =>
        new Promise<void>((resolve) => {
          if (app.server instanceof http.Server) app.server.closeAllConnections();
          app.server.close(() => {
            resolve();
          });
        }),
    ),
  );
});

async function start(
  kind: Kind,
  options: Parameters<typeof acceptProxyProtocol>[1] = { from: LOAD_BALANCER },
): Promise<Running> {
  const app: { handled: number } = { handled: 0 };
  const handler = (
    req: http.IncomingMessage | http2.Http2ServerRequest,
    res: http.ServerResponse | http2.Http2ServerResponse,
  ): void => {
    app.handled++;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const input = requestInput(req);
      const seen: Seen = {
        url: req.url ?? '',
        peerAddress: input.peerAddress ?? null,
        peerPort: input.peerPort ?? null,
        socketAddress: req.socket.remoteAddress ?? null,
        body: Buffer.concat(chunks).toString('latin1'),
      };
      res.setHeader('content-type', 'application/json');
      res.end(`${JSON.stringify(seen)}\n`);
    });
  };
  let server: Server;
  switch (kind) {
    case 'http':
      server = http.createServer(handler);
      break;
    case 'https':
      server = https.createServer(tls, handler);
      break;
    case 'h2c':
      server = http2.createServer(handler);
      break;
    case 'h2':
      server = http2.createSecureServer({ ...tls, allowHTTP1: true }, handler);
      break;
  }
  acceptProxyProtocol(server, { logger: silent, ...options });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const entry: Running = Object.assign(app, {
    port: (server.address() as AddressInfo).port,
    server,
  });
  running.push(entry);
  return entry;
}

interface Exchange {
  /** Everything the server sent. */
  readonly text: string;
  /** Milliseconds from connecting to the server closing. */
  readonly elapsed: number;
}

/**
 * Connects from `from`, writes each chunk (waiting `gapMs` between them),
 * and collects what comes back until the server closes, or `limitMs`.
 */
function exchange(
  port: number,
  from: string,
  chunks: readonly (Buffer | string)[],
  {
    gapMs = 0,
    limitMs = 5000,
    end = false,
  }: { gapMs?: number; limitMs?: number; end?: boolean } = {},
): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect({ host: '127.0.0.1', port, localAddress: from });
    const received: Buffer[] = [];
    let closed = false;
    const limit = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server neither answered nor closed within ${limitMs} ms`));
    }, limitMs);
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => {
      // A reset from the server is a close too.
    });
    socket.on('close', () => {
      closed = true;
      clearTimeout(limit);
      resolve({ text: Buffer.concat(received).toString('latin1'), elapsed: Date.now() - started });
    });
    socket.on('connect', () => {
      void (async () => {
        for (const chunk of chunks) {
          if (closed) return;
          socket.write(chunk);
          if (gapMs > 0) await new Promise((done) => setTimeout(done, gapMs));
        }
        if (end && !closed) socket.end();
      })();
    });
  });
}

/** `text` as one-byte chunks, to send a byte at a time. */
function bytesOf(text: string): Buffer[] {
  return Array.from(Buffer.from(text, 'latin1'), (byte) => Buffer.from([byte]));
}

/** The JSON bodies in an HTTP/1 exchange, in order. */
function seenIn(text: string): Seen[] {
  return [...text.matchAll(/^\{.*\}$/gm)].map((match) => JSON.parse(match[0]) as Seen);
}

function statusesIn(text: string): number[] {
  return [...text.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((match) => Number(match[1]));
}

describe('attacks', () => {
  let app: Running;
  let slow: Running;
  beforeAll(async () => {
    app = await start('http', { from: LOAD_BALANCER });
    slow = await start('http', { from: LOAD_BALANCER, timeout: 300 });
  });

  it('a client that is not `from` sending a PROXY header gets Node’s 400: the header is never read', async () => {
    const before = app.handled;
    const reply = await exchange(app.port, DIRECT_CLIENT, [
      `PROXY TCP4 203.0.113.66 10.0.0.1 1234 443\r\n${request('/forged', true)}`,
    ]);
    expect(statusesIn(reply.text)).toEqual([400]);
    expect(reply.text).not.toContain('203.0.113.66');
    expect(app.handled).toBe(before);
  });

  it('a client that is not `from` sending a v2 header gets Node’s 400 too', async () => {
    const before = app.handled;
    const reply = await exchange(app.port, DIRECT_CLIENT, [
      Buffer.concat([v2Tcp4([203, 0, 113, 66], 1234), Buffer.from(request('/forged', true))]),
    ]);
    expect(statusesIn(reply.text)).toEqual([400]);
    expect(app.handled).toBe(before);
  });

  it('a client that is not `from` is served as itself, its bytes untouched', async () => {
    const reply = await exchange(app.port, DIRECT_CLIENT, [request('/direct', true, 'PROXY body')]);
    expect(seenIn(reply.text)).toEqual([
      {
        url: '/direct',
        peerAddress: DIRECT_CLIENT,
        peerPort: expect.any(Number) as number,
        socketAddress: DIRECT_CLIENT,
        body: 'PROXY body',
      },
    ]);
  });

  it.each([
    ['an HTTP request without a header', [request('/nohdr', true)]],
    ['a header cut short, then the connection half-closed', ['PROXY TCP4 203.0.113.7 10.0.0.1 51']],
    [
      'a v1 line longer than 107 bytes',
      [`PROXY UNKNOWN ${'x'.repeat(120)}\r\n${request('/', true)}`],
    ],
    [
      'a lone LF ending the line',
      [`PROXY TCP4 203.0.113.7 10.0.0.1 51000 443\n${request('/', true)}`],
    ],
    [
      'a leading-zero port',
      [`PROXY TCP4 203.0.113.7 10.0.0.1 051000 443\r\n${request('/', true)}`],
    ],
    [
      'a wrong v2 signature',
      [Buffer.concat([Buffer.from('\r\n\r\n\0\r\nQUIX\n'), Buffer.alloc(16)])],
    ],
    [
      'a v2 header shorter than its address block',
      [Buffer.concat([v2(0x21, 0x11, Buffer.alloc(8)), Buffer.from(request('/', true))])],
    ],
    [
      'a v2 TLV that runs past the header',
      [
        Buffer.concat([
          v2(0x21, 0x11, Buffer.concat([Buffer.alloc(12), Buffer.from([1, 0, 9, 0x68, 0x32])])),
          Buffer.from(request('/', true)),
        ]),
      ],
    ],
    [
      'a v2 header declaring 65535 bytes',
      [Buffer.concat([v2(0x20, 0x00, Buffer.alloc(0), 65535), Buffer.from(request('/', true))])],
    ],
    [
      'a v2 command that does not exist',
      [Buffer.concat([v2(0x22, 0x11, Buffer.alloc(12)), Buffer.from(request('/', true))])],
    ],
  ])('from the load balancer, %s: closed at once, nothing reaches HTTP', async (name, chunks) => {
    const before = app.handled;
    const reply = await exchange(app.port, LOAD_BALANCER, chunks, {
      end: name.includes('half-closed'),
    });
    expect(reply.text).toBe('');
    expect(reply.elapsed).toBeLessThan(2000); // not the 5 s timeout
    expect(app.handled).toBe(before);
  });

  it('a v2 length that claims more than was sent: the request is never read as HTTP, and the timeout closes', async () => {
    const before = slow.handled;
    const lying = v2(0x21, 0x11, v2Tcp4([203, 0, 113, 7], 1).subarray(16), 200);
    const reply = await exchange(slow.port, LOAD_BALANCER, [
      Buffer.concat([lying, Buffer.from(request('/', true))]),
    ]);
    expect(reply.text).toBe('');
    expect(reply.elapsed).toBeGreaterThanOrEqual(250);
    expect(slow.handled).toBe(before);
  });

  it('slowloris: a header a byte at a time past the timeout is closed at the timeout', async () => {
    const before = slow.handled;
    const line = 'PROXY TCP4 203.0.113.7 10.0.0.1 51000 443\r\n';
    const reply = await exchange(slow.port, LOAD_BALANCER, [...bytesOf(line), request('/', true)], {
      gapMs: 40,
    });
    expect(reply.text).toBe('');
    expect(reply.elapsed).toBeGreaterThanOrEqual(250);
    expect(reply.elapsed).toBeLessThan(1500);
    expect(slow.handled).toBe(before);
  });

  it('a load balancer that connects and says nothing is closed at the timeout', async () => {
    const reply = await exchange(slow.port, LOAD_BALANCER, []);
    expect(reply.text).toBe('');
    expect(reply.elapsed).toBeGreaterThanOrEqual(250);
    expect(reply.elapsed).toBeLessThan(1500);
  });

  it('a `from` function that throws answers no: that connection goes to HTTP unread, and the process lives', async () => {
    const throwing = await start('http', {
      from: (address) => {
        if (address === DIRECT_CLIENT) throw new Error('lookup failed');
        return address === LOAD_BALANCER;
      },
    });
    const unread = await exchange(throwing.port, DIRECT_CLIENT, [request('/x', true)]);
    expect(seenIn(unread.text).map((seen) => seen.peerAddress)).toEqual([DIRECT_CLIENT]);
    const served = await exchange(throwing.port, LOAD_BALANCER, [
      `PROXY TCP4 203.0.113.7 10.0.0.1 51000 443\r\n${request('/y', true)}`,
    ]);
    expect(seenIn(served.text).map((seen) => seen.peerAddress)).toEqual(['203.0.113.7']);
    expect(throwing.handled).toBe(2);
  });

  it('a connection reset in the middle of a header leaves the server serving', async () => {
    await new Promise<void>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: app.port, localAddress: LOAD_BALANCER });
      socket.on('error', () => undefined);
      socket.on('connect', () => {
        socket.write('PROXY TCP4 203.0.113.7');
        setTimeout(() => {
          socket.resetAndDestroy();
          resolve();
        }, 50);
      });
    });
    const reply = await exchange(app.port, LOAD_BALANCER, [
      `PROXY TCP4 203.0.113.7 10.0.0.1 51000 443\r\n${request('/after', true)}`,
    ]);
    expect(seenIn(reply.text).map((seen) => seen.peerAddress)).toEqual(['203.0.113.7']);
  });
});

describe('the load balancer', () => {
  let app: Running;
  beforeAll(async () => {
    app = await start('http', { from: [LOAD_BALANCER, '127.0.0.4'] });
  });

  it.each([
    ['v1 TCP4', 'PROXY TCP4 203.0.113.7 10.0.0.1 51000 443\r\n', '203.0.113.7', 51000],
    ['v1 TCP6', 'PROXY TCP6 2001:DB8:0:0::7 2001:db8::1 51000 443\r\n', '2001:db8::7', 51000],
    ['v1 UNKNOWN keeps the load balancer as the peer', 'PROXY UNKNOWN\r\n', LOAD_BALANCER, 'any'],
    ['v2 TCP4', v2Tcp4([203, 0, 113, 7], 51000), '203.0.113.7', 51000],
    [
      'v2 LOCAL (a health check) keeps the load balancer as the peer',
      v2(0x20, 0x00, Buffer.alloc(0)),
      LOAD_BALANCER,
      'any',
    ],
    ['v2 UNIX is a peer without an address', v2(0x21, 0x31, Buffer.alloc(216)), null, null],
  ])('%s, with the request in the same packet', async (_name, header, address, port) => {
    const reply = await exchange(app.port, LOAD_BALANCER, [
      Buffer.concat([
        Buffer.from(header),
        Buffer.from(request('/same-packet', true, 'body after the header')),
      ]),
    ]);
    const seen = seenIn(reply.text);
    expect(seen).toEqual([
      {
        url: '/same-packet',
        peerAddress: address,
        peerPort: port === 'any' ? (expect.any(Number) as number) : port,
        socketAddress: LOAD_BALANCER,
        body: 'body after the header',
      },
    ]);
  });

  it('the header and the request a byte at a time, within the timeout', async () => {
    const bytes = `PROXY TCP4 203.0.113.7 10.0.0.1 51000 443\r\n${request('/bytes', true, 'xyz')}`;
    const reply = await exchange(app.port, LOAD_BALANCER, bytesOf(bytes), { gapMs: 1 });
    expect(seenIn(reply.text)).toMatchObject([
      { url: '/bytes', peerAddress: '203.0.113.7', body: 'xyz' },
    ]);
  });

  it('pipelined requests in the header’s packet are all answered, in order, for the header’s client', async () => {
    const reply = await exchange(app.port, '127.0.0.4', [
      `PROXY TCP4 203.0.113.8 10.0.0.1 40000 443\r\n${request('/1', false, 'a')}${request('/2', false, 'bb')}${request('/3', true, 'ccc')}`,
    ]);
    expect(seenIn(reply.text)).toEqual(
      ['/1', '/2', '/3'].map((url, index) => ({
        url,
        peerAddress: '203.0.113.8',
        peerPort: 40000,
        socketAddress: '127.0.0.4',
        body: 'abbccc'.slice([0, 1, 3][index], [1, 3, 6][index]),
      })),
    );
  });

  it('keep-alive: a later request on the connection is HTTP, never a second header', async () => {
    const reply = await exchange(
      app.port,
      LOAD_BALANCER,
      [
        `PROXY TCP4 203.0.113.9 10.0.0.1 40001 443\r\n${request('/first')}`,
        request('/second'),
        `PROXY TCP4 198.51.100.1 10.0.0.1 1 443\r\n${request('/third', true)}`,
      ],
      { gapMs: 100 },
    );
    expect(seenIn(reply.text).map((seen) => [seen.url, seen.peerAddress])).toEqual([
      ['/first', '203.0.113.9'],
      ['/second', '203.0.113.9'],
    ]);
    expect(statusesIn(reply.text)).toEqual([200, 200, 400]);
    expect(reply.text).not.toContain('198.51.100.1');
  });
});

/** A raw socket from the load balancer's address that has already sent `header`. */
function rawWithHeader(port: number, header: Buffer | string): Socket {
  const socket = connect({ host: '127.0.0.1', port, localAddress: LOAD_BALANCER });
  socket.write(header);
  return socket;
}

async function h2Get(session: http2.ClientHttp2Session, path: string): Promise<Seen> {
  const stream = session.request({ ':path': path, ':method': 'POST' });
  stream.end('h2 body');
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  await new Promise((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Seen;
}

describe('every server kind', () => {
  const header = 'PROXY TCP4 203.0.113.7 10.0.0.1 51000 443\r\n';
  const expected = {
    peerAddress: '203.0.113.7',
    peerPort: 51000,
    socketAddress: LOAD_BALANCER,
  };

  it('https: the header comes before the TLS handshake', async () => {
    const app = await start('https');
    const socket = tlsConnect({
      socket: rawWithHeader(app.port, header),
      ca: tls.cert,
      servername: 'localhost',
    });
    socket.write(request('/tls', true, 'tls body'));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    await new Promise((resolve) => socket.on('close', resolve));
    expect(seenIn(Buffer.concat(chunks).toString('latin1'))).toEqual([
      { url: '/tls', body: 'tls body', ...expected },
    ]);
  });

  it('https: a client that is not `from` does its TLS handshake as usual', async () => {
    const app = await start('https');
    const reply = await new Promise<string>((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: app.port,
          localAddress: DIRECT_CLIENT,
          ca: tls.cert,
          servername: 'localhost',
          path: '/d',
          method: 'POST',
          agent: false,
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => {
            text += chunk.toString();
          });
          res.on('end', () => {
            resolve(text);
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(seenIn(reply)).toMatchObject([
      { peerAddress: DIRECT_CLIENT, socketAddress: DIRECT_CLIENT },
    ]);
  });

  it('http2 cleartext (h2c): two streams on the connection, both for the header’s client', async () => {
    const app = await start('h2c');
    const session = http2.connect(`http://127.0.0.1:${app.port}`, {
      createConnection: () => rawWithHeader(app.port, header),
    });
    try {
      expect(await h2Get(session, '/a')).toEqual({ url: '/a', body: 'h2 body', ...expected });
      expect(await h2Get(session, '/b')).toEqual({ url: '/b', body: 'h2 body', ...expected });
    } finally {
      session.close();
    }
  });

  it('http2 over TLS (h2, allowHTTP1): the header before the handshake', async () => {
    const app = await start('h2');
    const session = http2.connect(`https://localhost:${app.port}`, {
      createConnection: () =>
        tlsConnect({
          socket: rawWithHeader(app.port, header),
          ca: tls.cert,
          servername: 'localhost',
          ALPNProtocols: ['h2'],
        }),
    });
    try {
      expect(await h2Get(session, '/h2')).toEqual({ url: '/h2', body: 'h2 body', ...expected });
    } finally {
      session.close();
    }
  });

  it.each([
    [
      'a server on :: takes an IPv4 balancer as ::ffff:127.0.0.2, which `from: "127.0.0.2"` matches',
      '::',
      '127.0.0.1',
      LOAD_BALANCER,
    ],
    ['a server on ::1 with `from: "::1"`', '::1', '::1', '::1'],
  ])('%s', async (_name, listenOn, connectTo, from) => {
    const server = http.createServer((req, res) => {
      res.end(
        JSON.stringify({ peer: requestInput(req).peerAddress, lb: req.socket.remoteAddress }),
      );
    });
    acceptProxyProtocol(server, { from });
    await new Promise<void>((done) => server.listen(0, listenOn, done));
    try {
      const { port } = server.address() as AddressInfo;
      const text = await new Promise<string>((done) => {
        const socket = connect({
          host: connectTo,
          port,
          ...(connectTo === '127.0.0.1' ? { localAddress: LOAD_BALANCER } : {}),
        });
        let data = '';
        socket.on('data', (chunk: Buffer) => {
          data += chunk.toString();
        });
        socket.on('close', () => {
          done(data);
        });
        socket.write(`PROXY TCP6 2001:db8::7 2001:db8::1 51000 443\r\n${request('/v6', true)}`);
      });
      expect(JSON.parse(text.slice(text.indexOf('{')))).toEqual({
        peer: '2001:db8::7',
        lb: connectTo === '::1' ? '::1' : `::ffff:${LOAD_BALANCER}`,
      });
    } finally {
      server.close();
    }
  });

  it('a Unix-socket server with `from: "unix"` reads the header from its socket peer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-'));
    const path = join(dir, 'app.sock');
    const server = http.createServer((req, res) => {
      res.end(JSON.stringify(requestInput(req)));
    });
    acceptProxyProtocol(server, { from: 'unix' });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      const text = await new Promise<string>((resolve) => {
        const socket = connect(path);
        let data = '';
        socket.on('data', (chunk: Buffer) => {
          data += chunk.toString();
        });
        socket.on('close', () => {
          resolve(data);
        });
        socket.write(`${header}${request('/unix', true)}`);
      });
      expect(text).toContain('"peerAddress":"203.0.113.7"');
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('with the engine: trustedProxy applies to the header’s address', () => {
  // An HTTP proxy at 198.51.100.10 (it appends X-Forwarded-For) sits in front
  // of a TCP load balancer at 127.0.0.2, which relays the HTTP proxy's
  // address in its PROXY header. The app trusts the HTTP proxy, never the
  // load balancer.
  let port = 0;
  let server: http.Server;
  beforeAll(async () => {
    const options = compileOptions({
      trustedProxy: '198.51.100.10',
      trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-proto'],
      logger: { warn: () => undefined },
    });
    server = http.createServer((req, res) => {
      const { view } = resolve(options, requestInput(req));
      res.end(
        `${JSON.stringify({ client: view.clientAddress, scheme: view.scheme, peer: view.peerAddress, trusted: view.peerTrusted })}\n`,
      );
    });
    acceptProxyProtocol(server, { from: LOAD_BALANCER });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  const withHeaders = (path: string, headers: string): string =>
    `GET ${path} HTTP/1.1\r\nHost: app.example\r\n${headers}Connection: close\r\n\r\n`;

  it.each([
    [
      'the header carries the trusted HTTP proxy: its X-Forwarded-* are read',
      'PROXY TCP4 198.51.100.10 10.0.0.1 40000 443\r\n',
      { client: '203.0.113.50', scheme: 'https', peer: '198.51.100.10', trusted: true },
    ],
    [
      'the header carries a client: its forged X-Forwarded-* are not',
      'PROXY TCP4 203.0.113.66 10.0.0.1 40000 443\r\n',
      { client: '203.0.113.66', scheme: 'http', peer: '203.0.113.66', trusted: false },
    ],
    [
      'a health check (LOCAL) is the load balancer itself, which is not trusted either',
      v2(0x20, 0x00, Buffer.alloc(0)),
      { client: LOAD_BALANCER, scheme: 'http', peer: LOAD_BALANCER, trusted: false },
    ],
  ])('%s', async (_name, header, expected) => {
    const reply = await exchange(port, LOAD_BALANCER, [
      Buffer.concat([
        Buffer.from(header),
        Buffer.from(
          withHeaders('/', 'X-Forwarded-For: 203.0.113.50\r\nX-Forwarded-Proto: https\r\n'),
        ),
      ]),
    ]);
    expect(JSON.parse(/^\{.*\}$/m.exec(reply.text)?.[0] ?? 'null')).toEqual(expected);
  });
});

describe('refusals are logged, bounded', () => {
  it('once per peer and reason, naming both and what to check', async () => {
    const warnings: string[] = [];
    const app = await start('http', {
      from: LOAD_BALANCER,
      logger: { warn: (m) => warnings.push(m) },
    });
    for (let i = 0; i < 3; i++) await exchange(app.port, LOAD_BALANCER, [request('/', true)]);
    await exchange(app.port, LOAD_BALANCER, ['PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n']);
    expect(warnings).toEqual([
      expect.stringMatching(
        /closed a connection from "127\.0\.0\.2", .*`from`: no PROXY header: the bytes start with neither "PROXY " nor the v2 signature\. .*send-proxy/,
      ),
      expect.stringMatching(/"127\.0\.0\.2".*v1: invalid port/),
    ]);
  });

  it('at most 100 distinct refusals, then one line to say so', async () => {
    const warnings: string[] = [];
    const app = await start('http', {
      from: 'loopback',
      logger: { warn: (m) => warnings.push(m) },
    });
    for (let i = 0; i < 110; i++) {
      await exchange(app.port, `127.0.1.${i + 1}`, ['GET']);
    }
    expect(warnings).toHaveLength(101);
    expect(warnings[100]).toMatch(
      /100 distinct PROXY-protocol refusals logged; further ones are not/,
    );
  });

  it('a peer that is not `from` is never logged: its bytes are HTTP’s', async () => {
    const warnings: string[] = [];
    const app = await start('http', {
      from: LOAD_BALANCER,
      logger: { warn: (m) => warnings.push(m) },
    });
    await exchange(app.port, DIRECT_CLIENT, [
      `PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n${request('/', true)}`,
    ]);
    expect(warnings).toEqual([]);
  });
});

describe('configuration', () => {
  it.each([
    ['no options', undefined, /needs options/],
    ['no `from`', {}, /needs `from`/],
    ['an invalid `from` entry', { from: '10.0.0.300' }, /invalid `from` entry "10\.0\.0\.300"/],
    ['a zero timeout', { from: 'loopback', timeout: 0 }, /`timeout` must be a number/],
    ['a string timeout', { from: 'loopback', timeout: '5s' }, /`timeout` must be a number/],
    ['an unknown option', { from: 'loopback', timout: 100 }, /unsupported option, `timout`/],
    ['a logger without warn', { from: 'loopback', logger: {} }, /`logger` must be an object/],
  ])('%s throws at start-up, saying what to write', (_name, options, message) => {
    const call = () => acceptProxyProtocol(http.createServer(), options as never);
    expect(call).toThrow(WaitressProxyConfigError);
    expect(call).toThrow(message);
  });

  it('a second call on the same server throws instead of demanding two headers', () => {
    const server = http.createServer();
    acceptProxyProtocol(server, { from: 'loopback' });
    expect(() => acceptProxyProtocol(server, { from: 'loopback' })).toThrow(/already called/);
  });

  it('a server without a connection listener, or not a server, throws', () => {
    expect(() => acceptProxyProtocol(createNetServer(), { from: 'loopback' })).toThrow(
      /no 'connection' listener/,
    );
    expect(() => acceptProxyProtocol({} as never, { from: 'loopback' })).toThrow(
      /needs a Node server/,
    );
  });

  it('the peer on the socket cannot be overwritten by later code', async () => {
    const app = await start('http');
    const server = app.server;
    let writable: boolean | undefined;
    server.prependListener('request', (req: http.IncomingMessage) => {
      writable = Object.getOwnPropertyDescriptor(req.socket, PROXY_PROTOCOL_PEER)?.writable;
    });
    await exchange(app.port, LOAD_BALANCER, [
      `PROXY TCP4 203.0.113.7 10.0.0.1 1 2\r\n${request('/', true)}`,
    ]);
    expect(writable).toBe(false);
  });
});

describe('fuzzed over real sockets', () => {
  let app: Running;
  beforeAll(async () => {
    app = await start('http', { from: LOAD_BALANCER, timeout: 400 });
  });

  const octet = fc.integer({ min: 0, max: 255 });
  const header = fc.oneof(
    fc
      .tuple(octet, octet, octet, octet, fc.integer({ min: 0, max: 65535 }))
      .map(([a, b, c, d, port]) =>
        Buffer.from(`PROXY TCP4 ${a}.${b}.${c}.${d} 10.0.0.1 ${port} 443\r\n`),
      ),
    fc
      .tuple(octet, octet, fc.integer({ min: 0, max: 65535 }))
      .map(([a, b, port]) => v2Tcp4([a, b, 0, 1], port)),
  );
  const mutatedHeader = fc
    .tuple(header, fc.array(fc.tuple(fc.nat(), octet), { maxLength: 2 }), fc.nat())
    .map(([bytes, edits, cut]) => {
      const copy = Buffer.from(bytes);
      for (const [at, value] of edits) copy[at % copy.length] = value;
      return cut % 4 === 0 ? copy.subarray(0, cut % (copy.length + 1)) : copy;
    });

  it('whatever the header and however it is split: answered for the header’s client exactly when the reader accepts it, closed otherwise, never hung', async () => {
    await fc.assert(
      fc.asyncProperty(
        mutatedHeader,
        fc.array(fc.nat(), { maxLength: 4 }),
        async (headerBytes, cuts) => {
          const bytes = Buffer.concat([headerBytes, Buffer.from(request('/fuzz', true))]);
          const points = [...new Set(cuts.map((cut) => cut % bytes.length))].sort((a, b) => a - b);
          const chunks = [0, ...points].map((from, index) =>
            bytes.subarray(from, [...points, bytes.length][index]),
          );
          const reading = readProxyHeader(bytes);
          const reply = await exchange(
            app.port,
            LOAD_BALANCER,
            chunks.filter((chunk) => chunk.length > 0),
            {
              gapMs: 2,
              limitMs: 3000,
            },
          );
          if (reading.status === 'complete' && reading.length === headerBytes.length) {
            expect(seenIn(reply.text)).toMatchObject([
              { url: '/fuzz', peerAddress: reading.header.source?.address ?? LOAD_BALANCER },
            ]);
          } else if (reading.status !== 'complete') {
            expect(reply.text).toBe('');
          } else {
            // A mutation moved the header's end: the rest is HTTP's to judge.
            expect(reply.text).toMatch(/^HTTP\/1\.1 /);
          }
        },
      ),
      { numRuns: 60 },
    );
  }, 60_000);
});
