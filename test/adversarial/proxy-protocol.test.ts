/**
 * The adversarial corpus for the PROXY header: what a client or a broken
 * load balancer can put before the HTTP bytes, played over real sockets
 * against each framework's app on a server that `acceptProxyProtocol` reads
 * (`from` the load balancer at 127.0.0.2, timeout 1 s; the apps trust no
 * proxy). Outcomes:
 * - `closed`: the connection is closed with nothing written, and no request
 *   reaches the app;
 * - `400`: Node's HTTP parser answers (the bytes were HTTP's, unread);
 * - a client address: the app served the request for the header's client.
 */
import { connect } from 'node:net';
import { FRAMEWORKS } from '../../examples/demo/src/apps/index.js';
import { startPeerApp } from '../proxies/support/proxy-protocol.js';
import type { PeerApp, PeerReport } from '../proxies/support/proxy-protocol.js';

const BALANCER = '127.0.0.2';
const CLIENT = '127.0.0.3';
const TIMEOUT = 1000;

const SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

function v2(versionCommand: number, family: number, body: Buffer, declared = body.length): Buffer {
  const fixed = Buffer.from([versionCommand, family, 0, 0]);
  fixed.writeUInt16BE(declared, 2);
  return Buffer.concat([SIGNATURE, fixed, body]);
}

/** A v2 PROXY TCP4 body: 203.0.113.7:51000 to 10.0.0.1:443, then `rest`. */
function tcp4Body(rest: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([Buffer.from([203, 0, 113, 7, 10, 0, 0, 1, 0xc7, 0x38, 0x01, 0xbb]), rest]);
}

const GET = 'GET /whoami HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n';
const GET_FORGED =
  'GET /whoami HTTP/1.1\r\nHost: app.example\r\nX-Forwarded-For: 198.51.100.66\r\n' +
  'X-Forwarded-Proto: https\r\nForwarded: for=198.51.100.66\r\nConnection: close\r\n\r\n';
const V1 = 'PROXY TCP4 203.0.113.7 10.0.0.1 51000 443\r\n';

interface ProxyCase {
  readonly name: string;
  /** Who sends it: the load balancer (matches `from`) or a client (does not). */
  readonly from: 'balancer' | 'client';
  readonly bytes: Buffer;
  /** `bytes` a byte at a time, `gapMs` apart. */
  readonly byteByByte?: { readonly gapMs: number };
  readonly outcome: 'closed' | '400' | { readonly client: string };
}

const bytes = (...parts: (string | Buffer)[]): Buffer =>
  Buffer.concat(
    parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'latin1') : part)),
  );

const PROXY_PROTOCOL_CORPUS: readonly ProxyCase[] = [
  // A client reaching the app with a header of its own: never read.
  { name: 'a client sends a v1 header', from: 'client', bytes: bytes(V1, GET), outcome: '400' },
  {
    name: 'a client sends a v2 header',
    from: 'client',
    bytes: bytes(v2(0x21, 0x11, tcp4Body()), GET),
    outcome: '400',
  },
  // The load balancer's address without a valid header.
  { name: 'no header at all', from: 'balancer', bytes: bytes(GET), outcome: 'closed' },
  {
    name: 'a truncated v1 line',
    from: 'balancer',
    bytes: bytes('PROXY TCP4 203.0.113.7 10.0'),
    outcome: 'closed',
  },
  {
    name: 'a truncated v2 header',
    from: 'balancer',
    bytes: v2(0x21, 0x11, tcp4Body()).subarray(0, 20),
    outcome: 'closed',
  },
  {
    name: 'an oversized v1 line (no CRLF in 107 bytes)',
    from: 'balancer',
    bytes: bytes(`PROXY UNKNOWN ${'f'.repeat(200)}\r\n`, GET),
    outcome: 'closed',
  },
  {
    name: 'an oversized v2 header (65535 bytes declared)',
    from: 'balancer',
    bytes: bytes(v2(0x21, 0x11, tcp4Body(), 65535), GET),
    outcome: 'closed',
  },
  {
    name: 'a wrong v2 signature',
    from: 'balancer',
    bytes: bytes(
      Buffer.from('0d0a0d0a000d0a515549540b', 'hex'),
      Buffer.from([0x21, 0x11, 0, 12]),
      tcp4Body(),
      GET,
    ),
    outcome: 'closed',
  },
  {
    name: 'a v2 length longer than the header: the request is not swallowed as TLVs, nor served',
    from: 'balancer',
    bytes: bytes(v2(0x21, 0x11, tcp4Body(), 12 + 40), GET),
    outcome: 'closed',
  },
  {
    name: 'a v2 length shorter than the IPv4 address block',
    from: 'balancer',
    bytes: bytes(v2(0x21, 0x11, tcp4Body(), 6), GET),
    outcome: 'closed',
  },
  {
    name: 'a v2 TLV whose length runs past the header',
    from: 'balancer',
    bytes: bytes(v2(0x21, 0x11, tcp4Body(Buffer.from([0x02, 0x00, 0x20, 0x61]))), GET),
    outcome: 'closed',
  },
  {
    name: 'slowloris: a valid header a byte every 60 ms, past the 1 s timeout',
    from: 'balancer',
    bytes: bytes(V1, GET),
    byteByByte: { gapMs: 60 },
    outcome: 'closed',
  },
  // The honest load balancer.
  {
    name: 'a v1 header and the request in one packet',
    from: 'balancer',
    bytes: bytes(V1, GET),
    outcome: { client: '203.0.113.7' },
  },
  {
    name: 'a v2 header and the request, a byte at a time within the timeout',
    from: 'balancer',
    bytes: bytes(v2(0x21, 0x11, tcp4Body()), GET),
    byteByByte: { gapMs: 0 },
    outcome: { client: '203.0.113.7' },
  },
  {
    name: 'the header’s client forging proxy headers: the header wins, the forged headers are removed',
    from: 'balancer',
    bytes: bytes(V1, GET_FORGED),
    outcome: { client: '203.0.113.7' },
  },
  {
    name: 'a second PROXY line after the header is HTTP, not a second header',
    from: 'balancer',
    bytes: bytes(V1, 'PROXY TCP4 198.51.100.66 10.0.0.1 1 443\r\n', GET),
    outcome: '400',
  },
];

/** Plays `bytes` from `from` and returns what the server wrote before closing. */
function play(port: number, from: string, c: ProxyCase): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress: from });
    let text = '';
    let closed = false;
    const limit = setTimeout(() => {
      socket.destroy();
      reject(new Error('the server neither answered nor closed within 5 s'));
    }, 5000);
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      clearTimeout(limit);
      resolve(text);
    });
    socket.on('connect', () => {
      if (c.byteByByte === undefined) {
        socket.write(c.bytes);
        return;
      }
      const gap = c.byteByByte.gapMs;
      void (async () => {
        for (const byte of c.bytes) {
          if (closed) return;
          socket.write(Buffer.from([byte]));
          await new Promise((done) => setTimeout(done, gap));
        }
      })();
    });
  });
}

describe.each(FRAMEWORKS)('the PROXY header on %s', (framework) => {
  let app: PeerApp | undefined;

  beforeAll(async () => {
    app = await startPeerApp(
      framework,
      {},
      { from: BALANCER, timeout: TIMEOUT, logger: { warn: () => undefined } },
    );
  });

  afterAll(async () => {
    await app?.close();
  });

  it.each(PROXY_PROTOCOL_CORPUS.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const text = await play(app?.port ?? 0, c.from === 'balancer' ? BALANCER : CLIENT, c);
    if (c.outcome === 'closed') {
      expect(text).toBe('');
      return;
    }
    if (c.outcome === '400') {
      expect(text).toMatch(/^HTTP\/1\.1 400 /);
      expect(text).not.toContain('198.51.100.66');
      expect(text).not.toContain('203.0.113.7');
      return;
    }
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    const report = JSON.parse(
      body.includes('{') ? body.slice(body.indexOf('{'), body.lastIndexOf('}') + 1) : 'null',
    ) as PeerReport;
    expect(report).toMatchObject({
      clientAddress: c.outcome.client,
      peerAddress: c.outcome.client,
      socketAddress: BALANCER,
      scheme: 'http',
    });
    expect(JSON.stringify(report.headers)).not.toMatch(/198\.51\.100\.66|x-forwarded|"forwarded"/);
  });

  // Runs last: every case above has been played.
  it('no refused case reached the app: only the honest ones did', () => {
    expect(app?.handled()).toBe(
      PROXY_PROTOCOL_CORPUS.filter((c) => typeof c.outcome === 'object').length,
    );
  });
});
