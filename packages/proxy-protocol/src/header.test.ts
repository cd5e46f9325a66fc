/**
 * The PROXY header reader against the spec (proxy-protocol.txt), row by row,
 * then fuzzed against an independent strict reading written here with
 * regular expressions, `net.isIP*` and the WHATWG URL parser: random and
 * mutated headers never throw, never accept what the reference refuses,
 * never read past the length given or the length declared.
 */
import { isIPv4, isIPv6 } from 'node:net';
import fc from 'fast-check';
import { MAX_V1_LENGTH, MAX_V2_LENGTH, readProxyHeader } from './header.js';
import type { HeaderReading } from './header.js';

const SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

/** A v2 header: version/command byte, family byte, then the body as given. */
function v2(versionCommand: number, family: number, body: Buffer, declared = body.length): Buffer {
  const fixed = Buffer.alloc(4);
  fixed[0] = versionCommand;
  fixed[1] = family;
  fixed.writeUInt16BE(declared, 2);
  return Buffer.concat([SIGNATURE, fixed, body]);
}

function ipv4Body(source: number[], destination: number[], sport: number, dport: number): Buffer {
  const body = Buffer.alloc(12);
  body.set(source, 0);
  body.set(destination, 4);
  body.writeUInt16BE(sport, 8);
  body.writeUInt16BE(dport, 10);
  return body;
}

function tlv(type: number, value: Buffer, declared = value.length): Buffer {
  const head = Buffer.alloc(3);
  head[0] = type;
  head.writeUInt16BE(declared, 1);
  return Buffer.concat([head, value]);
}

const V4_BODY = ipv4Body([203, 0, 113, 7], [10, 0, 0, 1], 51000, 443);
const V6_BODY = Buffer.concat([
  Buffer.from('20010db8000000000000000000000007', 'hex'),
  Buffer.from('20010db8000000000000000000000001', 'hex'),
  Buffer.from([0xc7, 0x38, 0x01, 0xbb]),
]);

function summary(reading: HeaderReading): unknown {
  if (reading.status !== 'complete') return reading.status;
  return { length: reading.length, source: reading.header.source };
}

const ascii = (text: string): Buffer => Buffer.from(text, 'latin1');

describe('v1 lines', () => {
  it.each([
    ['TCP4', 'PROXY TCP4 203.0.113.7 10.0.0.1 51000 443\r\n', '203.0.113.7', 51000],
    ['TCP6', 'PROXY TCP6 2001:db8::7 2001:db8::1 51000 443\r\n', '2001:db8::7', 51000],
    [
      'TCP6 in full becomes RFC 5952',
      'PROXY TCP6 2001:0DB8:0:0:0:0:0:7 ::1 1 2\r\n',
      '2001:db8::7',
      1,
    ],
    [
      'TCP6 IPv4-mapped (what inet_ntop writes) becomes IPv4',
      'PROXY TCP6 ::ffff:203.0.113.7 ::1 1 2\r\n',
      '203.0.113.7',
      1,
    ],
    ['port 0 and 65535', 'PROXY TCP4 1.2.3.4 5.6.7.8 0 65535\r\n', '1.2.3.4', 0],
  ])('%s is read', (_name, line, address, port) => {
    const reading = readProxyHeader(ascii(line));
    expect(summary(reading)).toEqual({ length: line.length, source: { address, port } });
  });

  it.each([
    ['PROXY UNKNOWN\r\n'],
    [
      'PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n',
    ],
    ['PROXY UNKNOWN anything at all\r\n'],
  ])('%j keeps the connection’s own peer', (line) => {
    expect(line.length).toBeLessThanOrEqual(MAX_V1_LENGTH);
    expect(summary(readProxyHeader(ascii(line)))).toEqual({
      length: line.length,
      source: undefined,
    });
  });

  it('the 107-byte worst case is read, and the request after it is not part of it', () => {
    const line =
      'PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n';
    expect(line.length).toBe(107);
    const reading = readProxyHeader(ascii(`${line}GET / HTTP/1.1\r\n\r\n`));
    expect(summary(reading)).toEqual({ length: 107, source: undefined });
  });

  it.each([
    ['no CRLF in 107 bytes', `PROXY UNKNOWN ${'x'.repeat(100)}`],
    ['CRLF at bytes 107-108', `PROXY UNKNOWN ${'x'.repeat(92)}\r\n`],
    ['a lone LF ends the line', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n'],
    ['a lone CR', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX'],
    ['lower case', 'proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n'],
    ['no space after PROXY', 'PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n'],
    ['two spaces', 'PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n'],
    ['a trailing space', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n'],
    ['a tab', 'PROXY TCP4\t1.2.3.4 5.6.7.8 1 2\r\n'],
    ['TCP5', 'PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n'],
    ['UNKNOWNX', 'PROXY UNKNOWNX\r\n'],
    ['UDP4', 'PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n'],
    ['a missing port', 'PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n'],
    ['an extra field', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n'],
    ['IPv6 under TCP4', 'PROXY TCP4 ::1 ::1 1 2\r\n'],
    ['IPv4 under TCP6', 'PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n'],
    ['an octal-looking octet', 'PROXY TCP4 010.2.3.4 5.6.7.8 1 2\r\n'],
    ['a short IPv4', 'PROXY TCP4 127.1 5.6.7.8 1 2\r\n'],
    ['an octet over 255', 'PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n'],
    ['a bad destination', 'PROXY TCP4 1.2.3.4 5.6.7 1 2\r\n'],
    ['a port over 65535', 'PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n'],
    ['a port with a leading zero', 'PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n'],
    ['a signed port', 'PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n'],
    ['a hex port', 'PROXY TCP4 1.2.3.4 5.6.7.8 0x1 2\r\n'],
    ['an IPv6 zone', 'PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n'],
    ['two ::', 'PROXY TCP6 1::2::3 ::1 1 2\r\n'],
    ['nine IPv6 groups', 'PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n'],
    ['a five-digit group', 'PROXY TCP6 12345::1 ::1 1 2\r\n'],
    ['bracketed IPv6', 'PROXY TCP6 [::1] ::1 1 2\r\n'],
    ['a non-ASCII byte', 'PROXY TCP4 1.2.3.4\xa05.6.7.8 1 2\r\n'],
    ['an HTTP request', 'GET / HTTP/1.1\r\n\r\n'],
  ])('%s is refused', (_name, line) => {
    expect(readProxyHeader(ascii(line)).status).toBe('invalid');
  });

  it('a prefix of a valid line is incomplete, never read early', () => {
    const line = ascii('PROXY TCP4 203.0.113.7 10.0.0.1 51000 443\r\n');
    for (let length = 0; length < line.length; length++) {
      expect(readProxyHeader(line, length).status).toBe('incomplete');
    }
  });

  it('a wrong first byte is refused at once, before more arrives', () => {
    expect(readProxyHeader(ascii('G')).status).toBe('invalid');
    expect(readProxyHeader(ascii('PROXX')).status).toBe('invalid');
  });
});

describe('v2 headers', () => {
  it.each([
    ['PROXY TCP4', v2(0x21, 0x11, V4_BODY), { address: '203.0.113.7', port: 51000 }],
    ['PROXY TCP6', v2(0x21, 0x21, V6_BODY), { address: '2001:db8::7', port: 51000 }],
    [
      'PROXY TCP6 IPv4-mapped',
      v2(
        0x21,
        0x21,
        Buffer.concat([
          Buffer.from('00000000000000000000ffffcb007107', 'hex'),
          Buffer.alloc(16),
          Buffer.from([0, 1, 0, 2]),
        ]),
      ),
      { address: '203.0.113.7', port: 1 },
    ],
    ['PROXY UNIX', v2(0x21, 0x31, Buffer.alloc(216)), { address: undefined, port: undefined }],
    [
      'PROXY TCP4 with TLVs (AWS NLB VPC endpoint, a NOOP)',
      v2(
        0x21,
        0x11,
        Buffer.concat([V4_BODY, tlv(0xea, ascii('\x01vpce-0123')), tlv(0x04, Buffer.alloc(0))]),
      ),
      { address: '203.0.113.7', port: 51000 },
    ],
    ['LOCAL (a health check) keeps the peer', v2(0x20, 0x00, Buffer.alloc(0)), undefined],
    ['LOCAL with an address block keeps the peer', v2(0x20, 0x11, V4_BODY), undefined],
    ['PROXY UNSPEC keeps the peer', v2(0x21, 0x00, Buffer.alloc(5)), undefined],
  ])('%s is read', (_name, header, source) => {
    const reading = readProxyHeader(Buffer.concat([header, ascii('GET / HTTP/1.1\r\n\r\n')]));
    expect(summary(reading)).toEqual({ length: header.length, source });
  });

  it.each([
    [
      'a wrong signature byte',
      Buffer.concat([ascii('\r\n\r\n\0\r\nQUIT\n'.replace('Q', 'X')), Buffer.alloc(4)]),
    ],
    ['version 1 in the binary form', v2(0x11, 0x11, V4_BODY)],
    ['version 3', v2(0x31, 0x11, V4_BODY)],
    ['command 2', v2(0x22, 0x11, V4_BODY)],
    ['family 4', v2(0x21, 0x41, V4_BODY)],
    ['transport 3', v2(0x21, 0x13, V4_BODY)],
    ['UDP4: an HTTP connection is not a datagram flow', v2(0x21, 0x12, V4_BODY)],
    ['UNIX datagram', v2(0x21, 0x32, Buffer.alloc(216))],
    ['a length shorter than the IPv4 block', v2(0x21, 0x11, V4_BODY.subarray(0, 11))],
    ['a length shorter than the IPv6 block', v2(0x21, 0x21, V6_BODY.subarray(0, 35))],
    ['a length shorter than the UNIX block', v2(0x21, 0x31, Buffer.alloc(215))],
    [
      'a TLV longer than the header',
      v2(0x21, 0x11, Buffer.concat([V4_BODY, tlv(0x01, ascii('h2'), 3)])),
    ],
    ['a truncated TLV head', v2(0x21, 0x11, Buffer.concat([V4_BODY, Buffer.from([0x01, 0x00])]))],
    ['more than 4096 bytes declared', v2(0x21, 0x11, Buffer.alloc(0), MAX_V2_LENGTH - 16 + 1)],
    ['65535 bytes declared', v2(0x20, 0x00, Buffer.alloc(0), 65535)],
  ])('%s is refused', (_name, header) => {
    expect(readProxyHeader(header).status).toBe('invalid');
  });

  it('a length that claims more than arrived waits, and never reads the request as header', () => {
    const lying = v2(0x21, 0x11, V4_BODY, 40);
    const withRequest = Buffer.concat([lying, ascii('GET / HTTP/1.1\r\n')]);
    expect(readProxyHeader(withRequest)).toEqual({ status: 'incomplete', needed: 56 });
  });

  it('exactly 4096 bytes is accepted, with a TLV filling it', () => {
    const filler = tlv(0x04, Buffer.alloc(MAX_V2_LENGTH - 16 - 12 - 3));
    const header = v2(0x21, 0x11, Buffer.concat([V4_BODY, filler]));
    expect(header.length).toBe(MAX_V2_LENGTH);
    expect(readProxyHeader(header).status).toBe('complete');
  });

  it('every prefix of a valid header is incomplete', () => {
    const header = v2(0x21, 0x21, Buffer.concat([V6_BODY, tlv(0x02, ascii('example.com'))]));
    for (let length = 0; length < header.length; length++) {
      expect(readProxyHeader(header, length).status).toBe('incomplete');
    }
  });
});

// ---------------------------------------------------------------------------
// The independent reference: the spec read with regular expressions, Node's
// `net.isIP*` and the WHATWG URL parser's IPv6 serializer.

type Reference =
  | { status: 'incomplete' }
  | { status: 'invalid' }
  | {
      status: 'complete';
      length: number;
      source: { address: string | undefined; port: number | undefined } | undefined;
    };

const IPV4 = /^(?:0|[1-9][0-9]{0,2})(?:\.(?:0|[1-9][0-9]{0,2})){3}$/;
const PORT = /^(?:0|[1-9][0-9]{0,4})$/;

function referenceIPv4(text: string): string | undefined {
  if (!IPV4.test(text) || !isIPv4(text)) return undefined;
  return text;
}

function canonicalIPv6(text: string): string {
  const host = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (mapped === null) return host;
  const high = parseInt(mapped[1] ?? '0', 16);
  const low = parseInt(mapped[2] ?? '0', 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

function referenceIPv6(text: string): string | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !isIPv6(text)) return undefined;
  // The dotted tail, if any, must be strict IPv4 too.
  const dotted = /:([0-9.]+)$/.exec(text);
  if (dotted !== null && text.includes('.') && referenceIPv4(dotted[1] ?? '') === undefined)
    return undefined;
  return canonicalIPv6(text);
}

function referencePort(text: string): number | undefined {
  return PORT.test(text) && Number(text) <= 65535 ? Number(text) : undefined;
}

function referenceV1(bytes: Buffer): Reference {
  const text = bytes.toString('latin1');
  const head = 'PROXY ';
  if (!(text.length < head.length ? head.startsWith(text) : text.startsWith(head)))
    return { status: 'invalid' };
  const window = text.slice(0, MAX_V1_LENGTH);
  const end = window.indexOf('\r\n');
  const before = end === -1 ? window : window.slice(0, end);
  // A lone LF, or a CR followed by anything but LF, before the line ends.
  if (before.includes('\n') || /\r[^\n]/.test(before)) return { status: 'invalid' };
  if (end === -1) {
    if (window.length >= MAX_V1_LENGTH) return { status: 'invalid' };
    return { status: 'incomplete' };
  }
  const line = before;
  const length = end + 2;
  if (/^PROXY UNKNOWN(?: [^\r\n]*)?$/.test(line))
    return { status: 'complete', length, source: undefined };
  const match = /^PROXY (TCP4|TCP6) ([^ ]+) ([^ ]+) ([^ ]+) ([^ ]+)$/.exec(line);
  if (match === null) return { status: 'invalid' };
  const parse = match[1] === 'TCP4' ? referenceIPv4 : referenceIPv6;
  const source = parse(match[2] ?? '');
  const destination = parse(match[3] ?? '');
  const sport = referencePort(match[4] ?? '');
  const dport = referencePort(match[5] ?? '');
  if (
    source === undefined ||
    destination === undefined ||
    sport === undefined ||
    dport === undefined
  ) {
    return { status: 'invalid' };
  }
  return { status: 'complete', length, source: { address: source, port: sport } };
}

const FAMILIES: Record<number, number> = {
  0x00: 0,
  0x11: 12,
  0x12: 12,
  0x21: 36,
  0x22: 36,
  0x31: 216,
  0x32: 216,
};

function referenceV2(bytes: Buffer): Reference {
  const prefix = bytes.subarray(0, SIGNATURE.length);
  if (!SIGNATURE.subarray(0, prefix.length).equals(prefix)) return { status: 'invalid' };
  if (bytes.length < 13) return { status: 'incomplete' };
  const version = (bytes[12] ?? 0) >> 4;
  const command = (bytes[12] ?? 0) & 15;
  if (version !== 2 || (command !== 0 && command !== 1)) return { status: 'invalid' };
  if (bytes.length < 14) return { status: 'incomplete' };
  const family = bytes[13] ?? 0;
  const block = FAMILIES[family];
  if (block === undefined) return { status: 'invalid' };
  if (bytes.length < 16) return { status: 'incomplete' };
  const declared = bytes.readUInt16BE(14);
  const total = 16 + declared;
  if (total > MAX_V2_LENGTH) return { status: 'invalid' };
  const relays = command === 1 && family !== 0;
  if (relays && (family & 15) === 2) return { status: 'invalid' };
  if (relays && declared < block) return { status: 'invalid' };
  if (bytes.length < total) return { status: 'incomplete' };
  if (!relays) return { status: 'complete', length: total, source: undefined };
  for (let at = 16 + block; at < total;) {
    if (total - at < 3) return { status: 'invalid' };
    at += 3 + bytes.readUInt16BE(at + 1);
    if (at > total) return { status: 'invalid' };
  }
  if (family === 0x11) {
    return {
      status: 'complete',
      length: total,
      source: { address: [...bytes.subarray(16, 20)].join('.'), port: bytes.readUInt16BE(24) },
    };
  }
  if (family === 0x21) {
    const hex = bytes.subarray(16, 32).toString('hex');
    const groups = hex.match(/.{4}/g)?.join(':') ?? '';
    return {
      status: 'complete',
      length: total,
      source: { address: canonicalIPv6(groups), port: bytes.readUInt16BE(48) },
    };
  }
  return { status: 'complete', length: total, source: { address: undefined, port: undefined } };
}

function reference(bytes: Buffer): Reference {
  if (bytes.length === 0) return { status: 'incomplete' };
  if (bytes[0] === 0x0d) return referenceV2(bytes);
  return referenceV1(bytes);
}

function actual(bytes: Buffer): Reference {
  const reading = readProxyHeader(bytes);
  if (reading.status !== 'complete') return { status: reading.status };
  const source = reading.header.source;
  return {
    status: 'complete',
    length: reading.length,
    source: source === undefined ? undefined : { address: source.address, port: source.port },
  };
}

// ---------------------------------------------------------------------------
// Generators: valid headers of each kind, then mutations of them.

const octet = fc.integer({ min: 0, max: 255 });
const portArb = fc.integer({ min: 0, max: 65535 });
const ipv4Text = fc.tuple(octet, octet, octet, octet).map((parts) => parts.join('.'));
const ipv6Text = fc.oneof(
  fc.ipV6(),
  fc
    .array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 })
    .map((groups) => groups.map((group) => group.toString(16)).join(':')),
  ipv4Text.map((address) => `::ffff:${address}`),
);

const v1Line = fc
  .oneof(
    fc
      .tuple(ipv4Text, ipv4Text, portArb, portArb)
      .map(([s, d, sp, dp]) => `PROXY TCP4 ${s} ${d} ${sp} ${dp}\r\n`),
    fc
      .tuple(ipv6Text, ipv6Text, portArb, portArb)
      .map(([s, d, sp, dp]) => `PROXY TCP6 ${s} ${d} ${sp} ${dp}\r\n`),
    fc.constant('PROXY UNKNOWN\r\n'),
    fc.stringMatching(/^[ -~]{0,90}$/).map((rest) => `PROXY UNKNOWN ${rest}\r\n`),
  )
  .map(ascii);

/** A TLV, mostly honest; sometimes its length is off by a little, the lie a fuzzer rarely finds alone. */
const tlvArb = fc
  .tuple(
    fc.integer({ min: 0, max: 255 }),
    fc.uint8Array({ maxLength: 40 }),
    fc.oneof(
      { weight: 4, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.integer({ min: -2, max: 2 }) },
    ),
  )
  .map(([type, value, lie]) => tlv(type, Buffer.from(value), Math.max(0, value.length + lie)));

const v2Header = fc
  .tuple(
    fc.constantFrom(0x20, 0x21),
    fc.constantFrom(0x00, 0x11, 0x21, 0x31),
    fc.array(tlvArb, { maxLength: 4 }),
    fc.uint8Array({ minLength: 216, maxLength: 216 }),
  )
  .map(([versionCommand, family, tlvs, addressBytes]) => {
    const block = Buffer.from(addressBytes).subarray(0, FAMILIES[family] ?? 0);
    return v2(versionCommand, family, Buffer.concat([block, ...tlvs]));
  });

type Mutation = (bytes: Buffer) => Buffer;

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fc.nat(), octet).map(([at, value]): Mutation => (bytes) => {
    const copy = Buffer.from(bytes);
    if (copy.length > 0) copy[at % copy.length] = value;
    return copy;
  }),
  fc.nat().map(
    (at): Mutation =>
      (bytes) =>
        bytes.subarray(0, at % (bytes.length + 1)),
  ),
  fc.tuple(fc.nat(), octet).map(([at, value]): Mutation => (bytes) => {
    const cut = at % (bytes.length + 1);
    return Buffer.concat([bytes.subarray(0, cut), Buffer.from([value]), bytes.subarray(cut)]);
  }),
  fc.nat().map((at): Mutation => (bytes) => {
    if (bytes.length === 0) return bytes;
    const cut = at % bytes.length;
    return Buffer.concat([bytes.subarray(0, cut), bytes.subarray(cut + 1)]);
  }),
  // The v2 length field, rewritten: the lies a sender can tell.
  fc.integer({ min: 0, max: 65535 }).map((declared): Mutation => (bytes) => {
    const copy = Buffer.from(bytes);
    if (copy.length >= 16 && copy[0] === 0x0d) copy.writeUInt16BE(declared, 14);
    return copy;
  }),
);

const mutated = fc
  .tuple(
    fc.oneof(v1Line, v2Header),
    fc.array(mutation, { maxLength: 3 }),
    fc.uint8Array({ maxLength: 40 }),
  )
  .map(([header, mutations, after]) =>
    Buffer.concat([mutations.reduce((bytes, mutate) => mutate(bytes), header), Buffer.from(after)]),
  );

/**
 * `bytes` behind a proxy that records the highest index read, so a test can
 * bound what the reader looked at.
 */
function watched(bytes: Buffer): { view: Uint8Array; highest: () => number } {
  let highest = -1;
  const view = new Proxy(bytes, {
    get(target, property) {
      if (typeof property === 'string' && /^[0-9]+$/.test(property)) {
        highest = Math.max(highest, Number(property));
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function'
        ? (value as (...args: unknown[]) => unknown).bind(target)
        : value;
    },
  });
  return { view, highest: () => highest };
}

describe('fuzzed against the strict reference', () => {
  it('generated v1 lines and v2 headers are read as the reference reads them', () => {
    fc.assert(
      fc.property(fc.oneof(v1Line, v2Header), fc.uint8Array({ maxLength: 40 }), (header, after) => {
        const bytes = Buffer.concat([header, Buffer.from(after)]);
        expect(actual(bytes)).toEqual(reference(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it('mutated headers: never throws, and accepts exactly what the reference accepts', () => {
    fc.assert(
      fc.property(mutated, (bytes) => {
        expect(actual(bytes)).toEqual(reference(bytes));
      }),
      { numRuns: 5000 },
    );
  });

  it('random bytes: never throws, and accepts exactly what the reference accepts', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (raw) => {
        const bytes = Buffer.from(raw);
        expect(actual(bytes)).toEqual(reference(bytes));
      }),
      { numRuns: 3000 },
    );
  });

  it('reads nothing past the bytes given, nor past the longest header, and asks for more only up to the declared length', () => {
    fc.assert(
      fc.property(mutated, fc.nat(), (bytes, cut) => {
        const length = cut % (bytes.length + 1);
        const { view, highest } = watched(bytes);
        const reading = readProxyHeader(view, length);
        expect(highest()).toBeLessThan(length);
        expect(highest()).toBeLessThan(MAX_V2_LENGTH);
        if (reading.status === 'incomplete') {
          expect(reading.needed).toBeGreaterThan(length);
          expect(reading.needed).toBeLessThanOrEqual(MAX_V2_LENGTH);
          if (bytes[0] === 0x50) expect(reading.needed).toBeLessThanOrEqual(MAX_V1_LENGTH);
          if (length >= 16 && bytes[0] === 0x0d) {
            expect(reading.needed).toBe(16 + bytes.readUInt16BE(14));
          }
        }
        if (reading.status === 'complete') expect(reading.length).toBeLessThanOrEqual(length);
      }),
      { numRuns: 3000 },
    );
  });
});
