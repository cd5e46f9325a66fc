/**
 * The PROXY protocol header, v1 (text) and v2 (binary), read strictly as
 * HAProxy's proxy-protocol.txt specifies it. A pure function of the bytes
 * received so far: it says the header is complete (and how long it is), or
 * invalid (the connection must be closed), or how many bytes it needs at
 * least before it can say more. It never reads past the length the header
 * declares, and it refuses as early as a byte proves the header wrong, so a
 * sender cannot make it wait for bytes that cannot help.
 */
import type { ProxyProtocolPeer } from '@waitress-proxy/core';
import { formatIPv4Bytes, formatIPv6Groups, ipv6Groups, parseIPv6Text } from './address.js';
import { parseIPv4 } from '@waitress-proxy/core/internal';

/**
 * The longest v1 line, CRLF included (proxy-protocol.txt 2.1: `PROXY
 * UNKNOWN` with two full IPv6 addresses and two ports is 107 bytes).
 */
export const MAX_V1_LENGTH = 107;

/** The fixed part of a v2 header: signature, version and command, family, length. */
export const V2_FIXED_LENGTH = 16;

/**
 * The longest v2 header this reader accepts, the 16 fixed bytes included:
 * 4,096 bytes. The length field allows 65,535 more; the largest address
 * block (two Unix paths) is 216 bytes, and the TLVs real load balancers add
 * (AWS NLB's VPC endpoint, GCP's PSC connection, Azure's link ID, HAProxy's
 * ALPN, authority, unique ID and SSL fields) stay far below the rest. A
 * header declaring more is refused before any of it is buffered.
 */
export const MAX_V2_LENGTH = 4096;

/** The v2 signature (proxy-protocol.txt 2.2). */
const V2_SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

/** `PROXY ` in ASCII: every v1 line starts with it. */
const V1_PREFIX = [0x50, 0x52, 0x4f, 0x58, 0x59, 0x20];

const CR = 0x0d;
const LF = 0x0a;

/** What a complete header said. */
export interface ProxyHeader {
  readonly version: 1 | 2;
  /**
   * The client the header relays; undefined when the connection's own peer
   * stands: v2 LOCAL (a health check from the proxy itself), v1 UNKNOWN, v2
   * PROXY with an unspecified family.
   */
  readonly source: ProxyProtocolPeer | undefined;
  /** The address and port the client connected to, when the header gave them. */
  readonly destination: ProxyProtocolPeer | undefined;
}

/** The reading of the bytes received so far. */
export type HeaderReading =
  | {
      /** More bytes are needed: at least `needed` in all. */
      readonly status: 'incomplete';
      readonly needed: number;
    }
  | {
      /** Not a valid header: the connection must be closed. */
      readonly status: 'invalid';
      /** Why, for logs and tests. */
      readonly reason: string;
    }
  | {
      readonly status: 'complete';
      /** The header's length in bytes: what follows belongs to the application protocol. */
      readonly length: number;
      readonly header: ProxyHeader;
    };

/** The reason for bytes that are no PROXY header at all (an HTTP request, most often). */
const NO_HEADER = 'no PROXY header: the bytes start with neither "PROXY " nor the v2 signature';

const invalid = (reason: string): HeaderReading => ({ status: 'invalid', reason });
const incomplete = (needed: number): HeaderReading => ({ status: 'incomplete', needed });

/**
 * Reads the header at the start of `bytes[0..length)`. Version 2 when the
 * bytes start with the v2 signature, version 1 when they start with
 * `PROXY `, otherwise invalid (proxy-protocol.txt 2.2: "the connection must
 * be dropped"). Looks at no byte past `length`, and at no more than the
 * longest header allowed.
 */
export function readProxyHeader(bytes: Uint8Array, length: number = bytes.length): HeaderReading {
  if (length === 0) return incomplete(1);
  if (bytes[0] === V2_SIGNATURE[0]) return readV2(bytes, length);
  if (bytes[0] === V1_PREFIX[0]) return readV1(bytes, length);
  return invalid(NO_HEADER);
}

function readV1(bytes: Uint8Array, length: number): HeaderReading {
  const prefix = Math.min(length, V1_PREFIX.length);
  for (let i = 0; i < prefix; i++) {
    if (bytes[i] !== V1_PREFIX[i]) return invalid(NO_HEADER);
  }
  // proxy-protocol.txt 2.1: wait for CRLF within 107 bytes; a lone CR or LF
  // does not end the line, it makes it invalid.
  const scan = Math.min(length, MAX_V1_LENGTH);
  for (let i = V1_PREFIX.length; i < scan; i++) {
    const byte = bytes[i];
    if (byte === LF) return invalid('v1: LF without CR');
    if (byte === CR) {
      // The LF would be byte 108.
      if (i + 1 >= MAX_V1_LENGTH) return invalid(`v1: no CRLF in the first ${MAX_V1_LENGTH} bytes`);
      if (i + 1 >= length) return incomplete(i + 2);
      if (bytes[i + 1] !== LF) return invalid('v1: CR without LF');
      return parseV1Line(bytes, i);
    }
  }
  if (scan >= MAX_V1_LENGTH) return invalid(`v1: no CRLF in the first ${MAX_V1_LENGTH} bytes`);
  return incomplete(length + 1);
}

/** Parses `bytes[0..end)`, the line without its CRLF, which ends at `end`. */
function parseV1Line(bytes: Uint8Array, end: number): HeaderReading {
  const complete = (source: ProxyProtocolPeer | undefined, destination?: ProxyProtocolPeer) => ({
    status: 'complete' as const,
    length: end + 2,
    header: { version: 1 as const, source, destination },
  });
  // "PROXY UNKNOWN", then nothing or a space and anything up to the CRLF,
  // which the receiver ignores; the connection's own peer stands.
  if (startsWithAscii(bytes, V1_PREFIX.length, end, 'UNKNOWN')) {
    const after = V1_PREFIX.length + 'UNKNOWN'.length;
    if (after === end || bytes[after] === 0x20) return complete(undefined);
    return invalid('v1: unknown protocol');
  }
  // Only printable ASCII can be valid from here: decode as Latin-1 (one
  // character per byte) and let the field checks refuse the rest.
  const line = latin1(bytes, 0, end);
  const fields = line.split(' ');
  if (fields.length !== 6) {
    return invalid('v1: expected "PROXY TCP4|TCP6 source destination sport dport"');
  }
  const [, protocol, sourceText, destinationText, sourcePortText, destinationPortText] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  let source: string | undefined;
  let destination: string | undefined;
  if (protocol === 'TCP4') {
    // The core's strict dotted quad (no leading zeros), the spelling Node reports.
    if (parseIPv4(sourceText) === -1 || parseIPv4(destinationText) === -1) {
      return invalid('v1: TCP4 with an invalid IPv4 address');
    }
    source = sourceText;
    destination = destinationText;
  } else if (protocol === 'TCP6') {
    const s = parseIPv6Text(sourceText);
    const d = parseIPv6Text(destinationText);
    if (s === undefined || d === undefined) return invalid('v1: TCP6 with an invalid IPv6 address');
    source = formatIPv6Groups(s);
    destination = formatIPv6Groups(d);
  } else {
    return invalid('v1: unknown protocol');
  }
  const sourcePort = parsePort(sourcePortText);
  const destinationPort = parsePort(destinationPortText);
  if (sourcePort === -1 || destinationPort === -1) return invalid('v1: invalid port');
  return complete(
    { address: source, port: sourcePort },
    { address: destination, port: destinationPort },
  );
}

/** A decimal port 0-65535 without leading zeros or sign, or -1. */
function parsePort(text: string): number {
  if (text.length === 0 || text.length > 5) return -1;
  if (text.length > 1 && text.charCodeAt(0) === 0x30) return -1;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value <= 65535 ? value : -1;
}

function startsWithAscii(bytes: Uint8Array, from: number, end: number, text: string): boolean {
  if (end - from < text.length) return false;
  for (let i = 0; i < text.length; i++) {
    if (bytes[from + i] !== text.charCodeAt(i)) return false;
  }
  return true;
}

function latin1(bytes: Uint8Array, from: number, to: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString('latin1');
}

/** v2 address block sizes by family byte (proxy-protocol.txt 2.2). */
const ADDRESS_LENGTH = { ipv4: 12, ipv6: 36, unix: 216 } as const;

function readV2(bytes: Uint8Array, length: number): HeaderReading {
  const signature = Math.min(length, V2_SIGNATURE.length);
  for (let i = 0; i < signature; i++) {
    if (bytes[i] !== V2_SIGNATURE[i]) return invalid('v2: wrong signature');
  }
  if (length < 13) return incomplete(13);
  // 13th byte: version 2 in the high nibble (the only one to accept), the
  // command in the low: 0 LOCAL, 1 PROXY, any other "must" be dropped.
  const versionCommand = bytes[12] ?? 0;
  if (versionCommand >> 4 !== 2) return invalid('v2: version is not 2');
  const command = versionCommand & 0x0f;
  if (command > 1) return invalid('v2: unknown command');
  if (length < 14) return incomplete(14);
  // 14th byte: family and transport. Only the seven combinations the spec
  // lists exist; the rest "must be rejected as invalid".
  const family = bytes[13] ?? 0;
  if (![0x00, 0x11, 0x12, 0x21, 0x22, 0x31, 0x32].includes(family)) {
    return invalid('v2: unknown address family or transport');
  }
  if (length < V2_FIXED_LENGTH) return incomplete(V2_FIXED_LENGTH);
  const declared = ((bytes[14] ?? 0) << 8) | (bytes[15] ?? 0);
  const total = V2_FIXED_LENGTH + declared;
  if (total > MAX_V2_LENGTH) {
    return invalid(`v2: declares ${total} bytes, more than the ${MAX_V2_LENGTH} accepted`);
  }
  // LOCAL: the proxy's own connection (a health check). The receiver "must
  // use the real connection endpoints and discard the protocol block
  // including the family", skipping exactly the declared length.
  const isProxy = command === 1;
  const transport = family & 0x0f;
  if (isProxy && family !== 0x00) {
    // An HTTP connection is a stream: a header claiming to relay a datagram
    // flow cannot describe it.
    if (transport !== 1) return invalid('v2: PROXY for a datagram transport');
    const needed = addressLength(family);
    if (declared < needed) {
      return invalid(`v2: length ${declared} is shorter than the ${needed}-byte address block`);
    }
  }
  if (length < total) return incomplete(total);
  const done = (source: ProxyProtocolPeer | undefined, destination?: ProxyProtocolPeer) => ({
    status: 'complete' as const,
    length: total,
    header: { version: 2 as const, source, destination },
  });
  // LOCAL, or PROXY with AF_UNSPEC: "the receiver should ignore address
  // information", and keeps the connection's own peer.
  if (!isProxy || family === 0x00) return done(undefined);
  const addresses = addressLength(family);
  const tlvError = checkTlvs(bytes, V2_FIXED_LENGTH + addresses, total);
  if (tlvError !== undefined) return invalid(tlvError);
  const at = V2_FIXED_LENGTH;
  switch (family >> 4) {
    case 1:
      return done(
        { address: formatIPv4Bytes(bytes, at), port: port(bytes, at + 8) },
        { address: formatIPv4Bytes(bytes, at + 4), port: port(bytes, at + 10) },
      );
    case 2:
      return done(
        { address: formatIPv6Groups(ipv6Groups(bytes, at)), port: port(bytes, at + 32) },
        { address: formatIPv6Groups(ipv6Groups(bytes, at + 16)), port: port(bytes, at + 34) },
      );
    default:
      // AF_UNIX: a Unix-socket client has no address; the engine calls it
      // `localhost`, as waitress does.
      return done({ address: undefined, port: undefined }, { address: undefined, port: undefined });
  }
}

function addressLength(family: number): number {
  switch (family >> 4) {
    case 1:
      return ADDRESS_LENGTH.ipv4;
    case 2:
      return ADDRESS_LENGTH.ipv6;
    case 3:
      return ADDRESS_LENGTH.unix;
    default:
      return 0;
  }
}

function port(bytes: Uint8Array, at: number): number {
  return ((bytes[at] ?? 0) << 8) | (bytes[at + 1] ?? 0);
}

/**
 * The TLVs between `from` and `end` must tile that space exactly: each a
 * type byte, a two-byte length, and that many bytes. Their contents are
 * ignored (the spec lets a receiver skip them); a length that runs past the
 * header is a lie, and refused.
 */
function checkTlvs(bytes: Uint8Array, from: number, end: number): string | undefined {
  let at = from;
  while (at < end) {
    if (end - at < 3) return 'v2: a truncated TLV';
    const valueLength = ((bytes[at + 1] ?? 0) << 8) | (bytes[at + 2] ?? 0);
    at += 3 + valueLength;
    if (at > end) return 'v2: a TLV longer than the header';
  }
  return undefined;
}
