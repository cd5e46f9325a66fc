/**
 * The client of the demo and of the reverse-proxy suite: one request, one new connection, from a chosen loopback
 * source address (`localAddress`), to a loopback port. Names are never
 * resolved: the client always connects to 127.0.0.1 and says `localhost` in
 * `Host` and in TLS's SNI, as a browser would for https://localhost:PORT/.
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

export const SERVER_NAME = 'localhost';

export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface RequestSpec {
  /** The port on 127.0.0.1. */
  readonly port: number;
  readonly path: string;
  /** The source address, a 127.0.0.0/8 address. */
  readonly from: string;
  /** The CA to trust for https; plain http without it. */
  readonly ca?: string | undefined;
  readonly headers?: OutgoingHttpHeaders | undefined;
  readonly timeoutMs?: number | undefined;
}

export function request(spec: RequestSpec): Promise<Reply> {
  if (!spec.from.startsWith('127.')) throw new Error(`not a loopback source: ${spec.from}`);
  const options: https.RequestOptions = {
    host: '127.0.0.1',
    port: spec.port,
    path: spec.path,
    localAddress: spec.from,
    agent: false,
    headers: { host: `${SERVER_NAME}:${spec.port}`, ...spec.headers },
    timeout: spec.timeoutMs ?? 10_000,
  };
  return new Promise((resolve, reject) => {
    const onResponse = (res: http.IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
      });
    };
    const req =
      spec.ca === undefined
        ? http.request(options, onResponse)
        : https.request({ ...options, ca: spec.ca, servername: SERVER_NAME }, onResponse);
    req.on('timeout', () =>
      req.destroy(new Error(`no answer from 127.0.0.1:${spec.port} in time`)),
    );
    req.on('error', reject);
    req.end();
  });
}
