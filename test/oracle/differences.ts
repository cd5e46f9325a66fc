/**
 * The one place that says which differences from waitress are allowed in the
 * differential test, and why a given case differs. Every id is an entry of
 * docs/differences-from-waitress.md (the test checks that each id is there),
 * or one of the two points where Debian's waitress 2.1.2 differs from 3.0.2,
 * which that page's introduction describes.
 */
import { BlockList, isIP, isIPv6 } from 'node:net';

/** What the test feeds both sides. */
export interface OracleCase {
  /** The peer's address; null for a Unix socket (waitress: `localhost`). */
  readonly peer: string | null;
  readonly peerPort: number;
  readonly localPort: number;
  /** `*`, the peer's exact address, or another address: forms both sides read alike. */
  readonly trustedProxy: string;
  readonly trustedProxyCount: number;
  readonly trustedProxyHeaders: readonly string[];
  readonly clearUntrusted: boolean;
  /** Header name (as sent) to value (repeated lines already joined). */
  readonly headers: Readonly<Record<string, string>>;
}

/** What waitress's app saw (or its 400), from waitress_oracle.py. */
export interface WaitressResult {
  readonly status: number;
  readonly environ: Readonly<Record<string, string>> | null;
  readonly malformed: { readonly header: string; readonly reason: string } | null;
}

/** What the core gave, in the oracle's terms. */
export interface CoreResult {
  readonly status: number;
  /** The header a 400 names, why, and the value refused (the host itself for a bad host). */
  readonly malformed?: { readonly header: string; readonly reason: string; readonly value: string };
  readonly clientAddress?: string;
  readonly clientPort?: string | undefined;
  readonly scheme?: string;
  readonly host?: string | undefined;
  readonly hostname?: string | undefined;
  readonly port?: string;
  /** Proxy headers after the changes, upper-case WSGI keys as waitress names them. */
  readonly proxyHeaders?: Readonly<Record<string, string | undefined>>;
}

/** The allowed differences, each with where it is written down. */
export const ALLOWED = {
  D1: 'client addresses must be addresses',
  D2: 'non-canonical IPv4 is refused',
  D3: 'IPv6 zone identifiers are refused',
  D4: 'hosts must be hosts',
  D5: 'ports must be ports',
  D6: 'a repeated Forwarded parameter is malformed',
  D7: 'only the trusted window is parsed',
  D8: 'empty list elements are skipped',
  D9: 'whole addresses before ports',
  D10: 'forwarded IPv6 is shown in one spelling (IPv4-mapped as IPv4)',
  D11: 'clientPort is only a port that goes with clientAddress',
  D12: 'hostname without a forwarded host comes from the Host header',
  D19: 'messages (a bad Forwarded proto is reported as header Forwarded)',
  /** waitress 2.1.2 keeps trusted headers whole; 3.0.2 (and we) cut them to the values used. */
  'waitress-2.1.2-keeps-whole-headers': 'does not cut trusted headers down to the values it used',
  /**
   * waitress 2.x does not clear untrusted headers by default; the oracle
   * passes clear_untrusted explicitly, so this can only show if it stops doing so.
   */
  'waitress-2.1.2-clear-default': 'does not clear untrusted proxy headers by default',
} as const;

export type DifferenceId = keyof typeof ALLOWED;

/** The fields compared, in the order reported. */
export const FIELDS = [
  'status',
  'malformedHeader',
  'clientAddress',
  'clientPort',
  'scheme',
  'host',
  'hostname',
  'port',
  'proxyHeaders',
] as const;
export type Field = (typeof FIELDS)[number];

/** The two sides' values for each field, in comparable form. */
export function fieldsOf(
  core: CoreResult,
  waitress: WaitressResult,
): Record<Field, [unknown, unknown]> {
  const env = waitress.environ ?? {};
  const ok = core.status === 200 && waitress.status === 200;
  const waitressProxyHeaders: Record<string, string | undefined> = {};
  for (const key of Object.keys(core.proxyHeaders ?? {})) waitressProxyHeaders[key] = env[key];
  return {
    status: [core.status, waitress.status],
    malformedHeader: [core.malformed?.header, waitress.malformed?.header],
    clientAddress: ok ? [core.clientAddress, env.REMOTE_ADDR] : [undefined, undefined],
    clientPort: ok ? [core.clientPort, env.REMOTE_PORT] : [undefined, undefined],
    scheme: ok ? [core.scheme, env['wsgi.url_scheme']] : [undefined, undefined],
    host: ok ? [core.host, env.HTTP_HOST] : [undefined, undefined],
    hostname: ok ? [core.hostname, env.SERVER_NAME] : [undefined, undefined],
    port: ok ? [core.port, env.SERVER_PORT] : [undefined, undefined],
    proxyHeaders: ok ? [core.proxyHeaders, waitressProxyHeaders] : [undefined, undefined],
  };
}

/** The case's value of a header, whatever case its name was sent in. */
function header(c: OracleCase, name: string): string | undefined {
  for (const [key, value] of Object.entries(c.headers)) {
    if (key.toLowerCase() === name) return value;
  }
  return undefined;
}

/** waitress's window of a list header: split on commas, stripped, last N (empties kept). */
function waitressWindow(value: string | undefined, count: number): string[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((element) => element.trim())
    .slice(-count);
}

/** The list headers that decide the client and host under the case's trust. */
function listHeaders(c: OracleCase): (string | undefined)[] {
  if (c.trustedProxyHeaders.includes('forwarded')) return [header(c, 'forwarded')];
  return [
    c.trustedProxyHeaders.includes('x-forwarded-for') ? header(c, 'x-forwarded-for') : undefined,
    c.trustedProxyHeaders.includes('x-forwarded-host') ? header(c, 'x-forwarded-host') : undefined,
  ];
}

/** D8: an empty element inside waitress's window of a trusted list header. */
function hasEmptyInWindow(c: OracleCase): boolean {
  return listHeaders(c).some((value) =>
    waitressWindow(value, c.trustedProxyCount).some((element) => element === ''),
  );
}

const LIST_HEADERS = ['X-Forwarded-For', 'X-Forwarded-Host', 'Forwarded'];

function unquoted(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"')
    ? value.slice(1, -1)
    : value;
}

function isPort(text: string): boolean {
  return /^[1-9][0-9]{0,4}$/.test(text) && Number(text) <= 65535;
}

/** D4's host: a name of unreserved characters, IPv4, or bracketed IPv6; optional port. */
function isValidHost(host: string): boolean {
  let name = host;
  let port: string | undefined;
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close === -1 || !isIPv6(host.slice(1, close))) return false;
    name = host.slice(0, close + 1);
    if (close + 1 < host.length) {
      if (host[close + 1] !== ':') return false;
      port = host.slice(close + 2);
    }
  } else {
    const colon = host.indexOf(':');
    if (colon !== -1) [name, port] = [host.slice(0, colon), host.slice(colon + 1)];
    if (!/^[A-Za-z0-9._~-]+$/.test(name)) return false;
  }
  return port === undefined || isPort(port);
}

/** Our malformed-header reasons, mapped to the entry that makes them ours. */
function explainOurRefusal(c: OracleCase, core: CoreResult): DifferenceId | undefined {
  const reason = core.malformed?.reason ?? '';
  const value = core.malformed?.value ?? '';
  if (hasEmptyInWindow(c)) return 'D8';
  if (reason.includes('occurs more than once')) return 'D6';
  // Checked independently, so a valid host or port refused by mistake is not excused.
  if (reason.startsWith('not a host name')) return isValidHost(value) ? undefined : 'D4';
  if (reason === 'not a port 1-65535') return isPort(unquoted(value)) ? undefined : 'D5';
  if (reason.includes('not an IP address')) {
    const value = listHeaders(c).join(',');
    if (value.includes('%')) return 'D3';
    if (/(^|[^0-9A-Za-z:])(0x|0[0-9]|[0-9]+\.[0-9]+(\.[0-9]+)?([^0-9.]|$))/i.test(value))
      return 'D2';
    return 'D1';
  }
  return undefined;
}

/**
 * True when waitress's IPv6 text (brackets stripped) and ours are one address
 * in two spellings (D10). Node's BlockList compares the binary addresses
 * (an IPv4 address as its mapped form), so the check does not lean on the
 * core's code.
 */
function isOtherSpelling(theirs: string | undefined, ours: string | undefined): boolean {
  if (theirs === undefined || ours === undefined) return false;
  const text = theirs.startsWith('[') && theirs.endsWith(']') ? theirs.slice(1, -1) : theirs;
  if (!isIPv6(text) || text === ours) return false;
  const list = new BlockList();
  list.addAddress(text, 'ipv6');
  if (isIPv6(ours)) return list.check(ours, 'ipv6');
  return isIP(ours) === 4 && list.check(`::ffff:${ours}`, 'ipv6');
}

/** True when waitress kept `[address]:port` whole where we read the address and the port. */
function isBracketedWithPort(theirs: string | undefined, core: CoreResult): boolean {
  const close = theirs?.lastIndexOf(']:') ?? -1;
  if (theirs === undefined || !theirs.startsWith('[') || close === -1) return false;
  if (theirs.slice(close + 2) !== String(core.clientPort)) return false;
  const inner = theirs.slice(1, close);
  return inner === core.clientAddress || isOtherSpelling(inner, core.clientAddress);
}

/** True when `mapped` is an IPv4-mapped IPv6 spelling of the IPv4 address `v4`. */
function isMappedSpelling(mapped: string | undefined, v4: string | undefined): boolean {
  if (mapped === undefined || v4 === undefined || isIP(v4) !== 4 || !isIPv6(mapped)) return false;
  const lower = mapped.toLowerCase();
  return lower.endsWith(`:${v4}`) && lower.includes('ffff');
}

/**
 * Why `field` differs for this case, or undefined when no allowed difference
 * explains it.
 */
export function explain(
  field: Field,
  c: OracleCase,
  core: CoreResult,
  waitress: WaitressResult,
): DifferenceId | undefined {
  const env = waitress.environ ?? {};
  switch (field) {
    case 'status':
    case 'malformedHeader':
      if (core.status === 400 && waitress.status === 400) {
        if (
          waitress.malformed?.header === 'Forwarded Proto=' &&
          core.malformed?.header === 'Forwarded'
        ) {
          return 'D19';
        }
        // Else we refused something waitress accepted (ours explains it), or
        // waitress refused a list header's part we never read (D7).
        return (
          explainOurRefusal(c, core) ??
          (LIST_HEADERS.includes(waitress.malformed?.header ?? '') ? 'D7' : undefined)
        );
      }
      if (core.status === 400) return explainOurRefusal(c, core);
      // waitress refused what we accepted: a broken value outside our window,
      // or an empty element it counted as a hop.
      if (hasEmptyInWindow(c)) return 'D8';
      return LIST_HEADERS.includes(waitress.malformed?.header ?? '') ? 'D7' : undefined;
    case 'clientAddress':
    case 'clientPort': {
      if (hasEmptyInWindow(c)) return 'D8';
      const address = env.REMOTE_ADDR;
      if (isMappedSpelling(address, core.clientAddress)) return 'D10';
      if (isOtherSpelling(address, core.clientAddress)) return 'D10';
      // waitress brackets a bracketed IPv6 with a port in X-Forwarded-For
      // again, and keeps `[address]:port` as the address (D9).
      if (isBracketedWithPort(address, core)) return 'D9';
      // waitress split a whole address at its last colon (D9).
      const split = `${address ?? ''}:${env.REMOTE_PORT ?? ''}`.toLowerCase();
      if (core.clientPort === undefined && env.REMOTE_PORT !== String(c.peerPort)) {
        const texts = listHeaders(c).flatMap((value) => waitressWindow(value, c.trustedProxyCount));
        if (texts.some((text) => text.toLowerCase().includes(split))) return 'D9';
      }
      if (
        field === 'clientPort' &&
        core.clientPort === undefined &&
        env.REMOTE_PORT === String(c.peerPort) &&
        core.clientAddress === address
      ) {
        return 'D11';
      }
      return undefined;
    }
    case 'hostname':
      if (env.SERVER_NAME === 'waitress.invalid') return 'D12';
      return hasEmptyInWindow(c) ? 'D8' : undefined;
    case 'scheme':
    case 'host':
    case 'port':
      return hasEmptyInWindow(c) ? 'D8' : undefined;
    case 'proxyHeaders': {
      // 2.1.2 leaves a trusted list header whole; we keep its window, a suffix.
      const ours = core.proxyHeaders ?? {};
      const allSuffixes = Object.entries(ours).every(([key, value]) => {
        const theirs = env[key];
        if (value === theirs) return true;
        return value !== undefined && theirs !== undefined && theirs.trim().endsWith(value);
      });
      if (allSuffixes) return 'waitress-2.1.2-keeps-whole-headers';
      return hasEmptyInWindow(c) ? 'D8' : undefined;
    }
  }
}
