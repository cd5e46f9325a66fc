/**
 * A self-signed certificate for `localhost` and `127.0.0.1`, made at run
 * time with `selfsigned` (pure JavaScript: a fresh machine with only Node has
 * no openssl). It is its own trust anchor: clients pass `cert` as `ca`.
 */
import { generate } from 'selfsigned';

export interface Certificate {
  /** PEM certificate; also the CA a client must trust. */
  readonly cert: string;
  /** PEM private key (unencrypted). */
  readonly key: string;
}

/** The names a client may use to reach the proxies; all loopback. */
export const CERTIFICATE_HOST = 'localhost';

export async function makeCertificate(): Promise<Certificate> {
  const now = Date.now();
  const pems = await generate([{ name: 'commonName', value: CERTIFICATE_HOST }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now - 60_000),
    notAfterDate: new Date(now + 24 * 60 * 60 * 1000),
    extensions: [
      // Not a CA: Apache warns about a CA certificate used as a server's.
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: CERTIFICATE_HOST },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}
