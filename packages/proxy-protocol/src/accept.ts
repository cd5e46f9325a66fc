/**
 * Reading the PROXY header off a server's new connections, before HTTP (and
 * before TLS) sees them.
 *
 * A Node server takes a connection through its `'connection'` listeners:
 * `http.Server` hands the socket to its HTTP/1 parser there, `tls.Server`
 * (so `https` and `http2.createSecureServer`) wraps it in a `TLSSocket`
 * there, `http2.createServer` starts an HTTP/2 session there. The reader
 * takes those listeners off the server and puts itself in their place. For a
 * peer that `from` trusts it reads the header from the raw socket, puts the
 * bytes that came after it back at the front of the socket's buffer
 * (`unshift`), and only then calls the server's own listeners, which find
 * the socket as if it had just arrived; each of them reads buffered bytes
 * first (Node's TLS and HTTP/2 layers take the raw socket's buffer; the
 * HTTP/1 parser gets it as `'data'`). For any other peer it calls them at
 * once, reading nothing.
 */
import { Server as NetServer } from 'node:net';
import type { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { PROXY_PROTOCOL_PEER, WaitressProxyConfigError } from '@waitress-proxy/core';
import type { ProxyProtocolPeer } from '@waitress-proxy/core';
import { UNIX_SOCKET_PEER, peerAddressOf } from '@waitress-proxy/core/internal';
import { MAX_V1_LENGTH, readProxyHeader } from './header.js';
import { compileProxyProtocolOptions } from './options.js';
import type { CompiledProxyProtocolOptions, ProxyProtocolOptions } from './options.js';

/** Marks a server the reader is installed on: a second reader would demand a second header. */
const INSTALLED = Symbol.for('@waitress-proxy/proxy-protocol:installed');

type ConnectionListener = (this: NetServer, socket: Socket) => void;

interface WithPeer {
  [PROXY_PROTOCOL_PEER]?: ProxyProtocolPeer;
}

/**
 * Makes `server` read a PROXY protocol header (v1 or v2) at the start of
 * every connection from a peer that `options.from` matches, before HTTP or
 * TLS sees the connection. Works for `http.Server`, `https.Server`,
 * `http2.Http2Server` and `http2.Http2SecureServer` (the header comes before
 * the TLS handshake, as load balancers send it), and for any `net.Server`
 * whose `'connection'` listeners take the socket.
 *
 * - From a matching peer the header is required. The client address and
 *   port it relays become the peer waitress-proxy's engine sees (set on the
 *   socket under `PROXY_PROTOCOL_PEER`), and `trustedProxy` and the proxy
 *   headers then apply to that address, as with nginx's
 *   `real_ip_header proxy_protocol`. A v2 LOCAL header (a health check), a
 *   v1 UNKNOWN line or a v2 header with an unspecified family keep the
 *   connection's own peer. A missing, malformed, oversized or late header
 *   (see `timeout`) closes the connection before any HTTP parsing, with a
 *   warning through `logger` (once per peer and reason, bounded).
 * - From any other peer nothing is read: the bytes reach HTTP untouched, so
 *   a PROXY header a client sends itself is an HTTP 400 from Node.
 * - The load balancer's own address stays in `socket.remoteAddress` and
 *   `socket.remotePort` (`req.socket.remoteAddress` in a handler).
 *
 * Call it once, after creating the server and before connections arrive.
 * Connection listeners added to the server later run as soon as a
 * connection is accepted, before its header is read. A connection still
 * waiting for its header is not yet known to the HTTP server
 * (`closeAllConnections` does not see it); the `timeout` bounds its life.
 *
 * Throws a `WaitressProxyConfigError` for bad options, a server that is not
 * a `net.Server`, a server without a `'connection'` listener, or a second
 * call on the same server. Returns the server.
 */
export function acceptProxyProtocol<S extends NetServer>(
  server: S,
  options: ProxyProtocolOptions,
): S {
  if (!(server instanceof NetServer)) {
    throw new WaitressProxyConfigError(
      'server',
      `acceptProxyProtocol needs a Node server (http, https or http2 createServer's result), ` +
        `received ${typeof server}.`,
    );
  }
  const compiled = compileProxyProtocolOptions(options);
  const marked = server as S & { [INSTALLED]?: true };
  if (marked[INSTALLED] === true) {
    throw new WaitressProxyConfigError(
      'server',
      `acceptProxyProtocol was already called on this server: call it once (a second reader ` +
        `would demand a second PROXY header).`,
    );
  }
  const listeners = server.listeners('connection') as ConnectionListener[];
  if (listeners.length === 0) {
    throw new WaitressProxyConfigError(
      'server',
      `acceptProxyProtocol found no 'connection' listener on the server: pass an http, https ` +
        `or http2 server, or add your own 'connection' listener first.`,
    );
  }
  Object.defineProperty(marked, INSTALLED, { value: true });
  for (const listener of listeners) server.removeListener('connection', listener);

  const refused = refusalLog(compiled);
  const handOver = (socket: Socket): void => {
    for (const listener of listeners) listener.call(server, socket);
  };
  server.on('connection', (socket: Socket) => {
    // The core's matcher answers no for a `from` function that throws: the
    // bytes then go to HTTP untouched, where a load balancer's PROXY line is
    // Node's 400, never an address.
    if (!compiled.from(peerOf(socket))) {
      handOver(socket);
      return;
    }
    readHeader(socket, compiled, handOver, refused);
  });
  if (server instanceof TlsServer) {
    // The HTTP layer reads the peer off the TLSSocket, not the raw socket
    // the header came on: copy it across before any request listener runs.
    server.prependListener('secureConnection', (tlsSocket: TLSSocket) => {
      // `_parent` is the socket a TLSSocket wraps (Node's lib/_tls_wrap.js);
      // the https and http2 tests fail if it ever goes.
      const raw = (tlsSocket as TLSSocket & { _parent?: WithPeer | null })._parent;
      const peer = raw?.[PROXY_PROTOCOL_PEER];
      if (peer !== undefined) setPeer(tlsSocket, peer);
    });
  }
  return server;
}

/** At most this many distinct (peer, reason) warnings, then one to say so. */
const MAX_REFUSAL_WARNINGS = 100;

/** Says why a balancer's connection was closed: once per peer and reason, bounded. */
type RefusalLog = (peer: string, reason: string) => void;

function refusalLog(options: CompiledProxyProtocolOptions): RefusalLog {
  const seen = new Set<string>();
  let silenced = false;
  return (peer, reason) => {
    if (silenced) return;
    const key = `${peer}\u0000${reason}`;
    if (seen.has(key)) return;
    if (seen.size >= MAX_REFUSAL_WARNINGS) {
      silenced = true;
      options.logger.warn(
        `waitress-proxy: ${MAX_REFUSAL_WARNINGS} distinct PROXY-protocol refusals logged; ` +
          `further ones are not.`,
      );
      return;
    }
    seen.add(key);
    options.logger.warn(
      `waitress-proxy: closed a connection from "${peer}", which matches acceptProxyProtocol's ` +
        `\`from\`: ${reason}. A load balancer in \`from\` must send a PROXY header first ` +
        `(HAProxy: send-proxy or send-proxy-v2; nginx stream: proxy_protocol on); if this peer ` +
        `is not one, take it out of \`from\`.`,
    );
  };
}

/**
 * The connection's peer as the engine compares it (the core's own
 * normalization: a zone dropped, IPv4-mapped IPv6 unwrapped), or
 * `localhost` for a Unix-socket peer, as `trustedProxy` matches it.
 */
function peerOf(socket: Socket): string {
  const address = socket.remoteAddress;
  return address === undefined ? UNIX_SOCKET_PEER : peerAddressOf(address);
}

function setPeer(socket: object, peer: ProxyProtocolPeer): void {
  Object.defineProperty(socket, PROXY_PROTOCOL_PEER, {
    value: Object.freeze({ address: peer.address, port: peer.port }),
    enumerable: false,
    writable: false,
    configurable: false,
  });
}

/**
 * Reads the header from `socket`, then hands the socket on with the bytes
 * after the header put back; or closes it. Nothing here throws out of a
 * socket callback: any failure ends the connection.
 */
function readHeader(
  socket: Socket,
  options: CompiledProxyProtocolOptions,
  handOver: (socket: Socket) => void,
  refused: RefusalLog,
): void {
  const peer = peerOf(socket);
  // Sized for the longest v1 line, which covers v2's fixed part; grown only
  // once a v2 header has declared its length (bounded by MAX_V2_LENGTH).
  let buffer = Buffer.allocUnsafe(MAX_V1_LENGTH);
  let received = 0;
  let settled = false;

  const timer = setTimeout(() => {
    if (!settled) refused(peer, `no complete PROXY header within ${options.timeout} ms`);
    close();
  }, options.timeout);
  timer.unref();

  const cleanUp = (): void => {
    settled = true;
    clearTimeout(timer);
    socket.removeListener('data', onData);
    socket.removeListener('end', onEnd);
    socket.removeListener('close', close);
    socket.removeListener('error', close);
  };

  function close(): void {
    if (settled) return;
    cleanUp();
    socket.destroy();
  }

  function onData(chunk: Buffer): void {
    if (settled) return;
    try {
      let offset = 0;
      for (;;) {
        const reading = readProxyHeader(buffer, received);
        if (reading.status === 'invalid') {
          refused(peer, reading.reason);
          close();
          return;
        }
        if (reading.status === 'complete') {
          const rest = Buffer.concat([
            buffer.subarray(reading.length, received),
            chunk.subarray(offset),
          ]);
          cleanUp();
          socket.pause();
          if (reading.header.source !== undefined) setPeer(socket, reading.header.source);
          if (rest.length > 0) socket.unshift(rest);
          handOver(socket);
          // The HTTP/1 parser reads buffered bytes as 'data'; TLS and HTTP/2
          // take the buffer themselves and add no 'data' listener.
          if (socket.listenerCount('data') > 0) socket.resume();
          return;
        }
        // Always more than received (the reader's contract); anything else
        // would loop.
        if (reading.needed <= received) {
          close();
          return;
        }
        if (reading.needed > buffer.length) {
          const grown = Buffer.allocUnsafe(reading.needed);
          buffer.copy(grown, 0, 0, received);
          buffer = grown;
        }
        if (offset === chunk.length) return;
        const take = Math.min(chunk.length - offset, buffer.length - received);
        chunk.copy(buffer, received, offset, offset + take);
        offset += take;
        received += take;
      }
    } catch {
      // A listener handed the socket threw, or a bug here: end this
      // connection, never the process.
      cleanUp();
      socket.destroy();
    }
  }

  function onEnd(): void {
    if (!settled) refused(peer, 'the connection ended before its PROXY header was complete');
    close();
  }

  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('close', close);
  socket.on('error', close);
}
