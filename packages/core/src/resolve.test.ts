import { compileOptions, PROXY_HEADER_NAMES } from './options.js';
import { PROXY_PROTOCOL_PEER, requestInput } from './incoming.js';
import { resolve, routeUrl } from './resolve.js';
import type { RequestInput } from './resolve.js';
import { TooManyHeadersError } from './errors.js';
import { explain } from './explain.js';
import { expectOutcome, RecordingLogger, runRequest, testInput } from './test-support.js';
import type { Row } from './test-support.js';

const XFF = ['x-forwarded-for'];
const NGINX_HEADERS = [
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
];

/**
 * The set-ups of waitress's reverse-proxy document, as the proxies send them
 * (shared/waitress-reverse-proxy.txt): the client 198.51.100.7 asks for
 * https://example.com/ and the proxy at 10.0.0.5 forwards to the app on 8080.
 */
const documentedSetups: Row[] = [
  {
    name: 'nginx: Host $host plus X-Forwarded-Proto/For/Host/Port',
    options: { trustedProxy: '10.0.0.5', trustedProxyHeaders: NGINX_HEADERS },
    request: {
      peer: '10.0.0.5',
      headers: {
        Host: 'example.com',
        'X-Forwarded-Proto': 'https',
        'X-Forwarded-For': '198.51.100.7',
        'X-Forwarded-Host': 'example.com:443',
        'X-Forwarded-Port': '443',
      },
    },
    expected: {
      view: {
        clientAddress: '198.51.100.7',
        clientPort: undefined,
        scheme: 'https',
        host: 'example.com:443',
        hostname: 'example.com',
        port: 443,
        ips: ['198.51.100.7'],
        peerAddress: '10.0.0.5',
        peerTrusted: true,
      },
      headers: { host: 'example.com:443', 'x-forwarded-for': '198.51.100.7' },
    },
  },
  {
    name: 'nginx on a non-default port: the port stays in the host',
    options: { trustedProxy: '10.0.0.5', trustedProxyHeaders: NGINX_HEADERS },
    request: {
      peer: '10.0.0.5',
      headers: {
        Host: 'example.com',
        'X-Forwarded-Proto': 'https',
        'X-Forwarded-For': '198.51.100.7',
        'X-Forwarded-Host': 'example.com:8443',
        'X-Forwarded-Port': '8443',
      },
    },
    expected: {
      view: { scheme: 'https', host: 'example.com:8443', hostname: 'example.com', port: 8443 },
    },
  },
  {
    name: 'nginx appending to a client-sent X-Forwarded-For: the forged entry is ignored and cut',
    options: { trustedProxy: '10.0.0.5', trustedProxyHeaders: NGINX_HEADERS },
    request: {
      peer: '10.0.0.5',
      headers: { 'X-Forwarded-For': '6.6.6.6, 198.51.100.7', 'X-Forwarded-Proto': 'http' },
    },
    expected: {
      view: { clientAddress: '198.51.100.7', ips: ['198.51.100.7'] },
      headers: { 'x-forwarded-for': '198.51.100.7' },
    },
  },
  {
    name: 'Apache mod_proxy: X-Forwarded-For/Host/Server, RequestHeader set X-Forwarded-Proto https',
    options: {
      trustedProxy: '10.0.0.5',
      trustedProxyHeaders: 'x-forwarded-for x-forwarded-host x-forwarded-proto',
    },
    request: {
      peer: '10.0.0.5',
      headers: {
        Host: 'example.com',
        'X-Forwarded-For': '198.51.100.7',
        'X-Forwarded-Host': 'example.com',
        'X-Forwarded-Server': 'proxy.internal',
        'X-Forwarded-Proto': 'https',
      },
    },
    expected: {
      view: {
        clientAddress: '198.51.100.7',
        scheme: 'https',
        host: 'example.com',
        hostname: 'example.com',
        port: 443,
      },
      // Not a proxy header waitress knows: left alone.
      headers: { 'x-forwarded-server': 'proxy.internal' },
    },
  },
  {
    name: 'Forwarded (RFC 7239) set-up',
    options: { trustedProxy: '10.0.0.5', trustedProxyHeaders: 'forwarded' },
    request: {
      peer: '10.0.0.5',
      headers: { Host: 'example.com', Forwarded: 'for=198.51.100.7;host=example.com;proto=https' },
    },
    expected: {
      view: { clientAddress: '198.51.100.7', scheme: 'https', host: 'example.com', port: 443 },
    },
  },
];

const trustForms: Row[] = [
  {
    name: 'untrusted peer: the direct connection, whatever headers came',
    options: { trustedProxy: '10.0.0.5', trustedProxyHeaders: NGINX_HEADERS },
    request: {
      peer: '10.0.0.6',
      peerPort: 40000,
      localPort: 3000,
      headers: {
        Host: 'app.internal:3000',
        'X-Forwarded-For': '1.2.3.4',
        'X-Forwarded-Proto': 'https',
        'X-Forwarded-Host': 'evil.example',
        'X-Forwarded-Port': '443',
        'X-Forwarded-By': 'x',
        Forwarded: 'for=1.2.3.4',
      },
    },
    expected: {
      view: {
        clientAddress: '10.0.0.6',
        clientPort: 40000,
        scheme: 'http',
        host: 'app.internal:3000',
        hostname: 'app.internal',
        port: 3000,
        ips: [],
        peerAddress: '10.0.0.6',
        peerTrusted: false,
      },
      headers: {
        host: 'app.internal:3000',
        'x-forwarded-for': undefined,
        'x-forwarded-proto': undefined,
        'x-forwarded-host': undefined,
        'x-forwarded-port': undefined,
        'x-forwarded-by': undefined,
        forwarded: undefined,
      },
    },
  },
  {
    name: 'no trustedProxy: proxy headers are still removed (waitress clears by default)',
    options: {},
    request: { headers: { 'X-Forwarded-For': '1.2.3.4', Forwarded: 'for=1.2.3.4' } },
    expected: {
      view: { clientAddress: '127.0.0.1', peerTrusted: false },
      headers: { 'x-forwarded-for': undefined, forwarded: undefined },
    },
  },
  {
    name: 'an IPv4-mapped peer matches the IPv4 entry and is reported as IPv4',
    options: { trustedProxy: '127.0.0.1', trustedProxyHeaders: XFF },
    request: { peer: '::ffff:127.0.0.1', headers: { 'X-Forwarded-For': '192.0.2.9' } },
    expected: { view: { clientAddress: '192.0.2.9', peerAddress: '127.0.0.1', peerTrusted: true } },
  },
  {
    name: 'an untrusted IPv4-mapped peer is the client, as IPv4',
    options: { trustedProxy: '127.0.0.1', trustedProxyHeaders: XFF },
    request: { peer: '::ffff:127.0.0.9', headers: { 'X-Forwarded-For': '192.0.2.9' } },
    expected: { view: { clientAddress: '127.0.0.9', peerTrusted: false } },
  },
  {
    name: 'a list of addresses in one string',
    options: { trustedProxy: '10.0.0.5, 10.0.0.6 10.0.0.7', trustedProxyHeaders: XFF },
    request: { peer: '10.0.0.7', headers: { 'X-Forwarded-For': '192.0.2.9' } },
    expected: { view: { clientAddress: '192.0.2.9' } },
  },
  {
    name: 'a CIDR range',
    options: { trustedProxy: ['10.1.0.0/16'], trustedProxyHeaders: XFF },
    request: { peer: '10.1.200.3', headers: { 'X-Forwarded-For': '192.0.2.9' } },
    expected: { view: { clientAddress: '192.0.2.9' } },
  },
  {
    name: 'an address just outside the CIDR range is not trusted',
    options: { trustedProxy: ['10.1.0.0/16'], trustedProxyHeaders: XFF },
    request: { peer: '10.2.0.1', headers: { 'X-Forwarded-For': '192.0.2.9' } },
    expected: { view: { clientAddress: '10.2.0.1', peerTrusted: false } },
  },
  {
    name: 'a netmask range',
    options: { trustedProxy: '192.168.0.0/255.255.0.0', trustedProxyHeaders: XFF },
    request: { peer: '192.168.7.7', headers: { 'X-Forwarded-For': '192.0.2.9' } },
    expected: { view: { clientAddress: '192.0.2.9' } },
  },
  {
    name: 'loopback trusts ::1',
    options: { trustedProxy: 'loopback', trustedProxyHeaders: XFF },
    request: { peer: '::1', headers: { 'X-Forwarded-For': '192.0.2.9' } },
    expected: { view: { clientAddress: '192.0.2.9', peerAddress: '::1' } },
  },
  {
    name: 'uniquelocal trusts 172.16.0.0/12 and fc00::/7',
    options: { trustedProxy: 'uniquelocal', trustedProxyHeaders: XFF },
    request: { peer: 'fd12::1', headers: { 'X-Forwarded-For': '192.0.2.9' } },
    expected: { view: { clientAddress: '192.0.2.9' } },
  },
  {
    name: 'linklocal trusts fe80::/10',
    options: { trustedProxy: 'linklocal', trustedProxyHeaders: XFF },
    request: { peer: 'fe80::1', headers: { 'X-Forwarded-For': '192.0.2.9' } },
    expected: { view: { clientAddress: '192.0.2.9' } },
  },
  {
    name: 'a function decides',
    options: {
      trustedProxy: (address: string) => address.startsWith('10.'),
      trustedProxyHeaders: XFF,
    },
    request: { peer: '::ffff:10.9.9.9', headers: { 'X-Forwarded-For': '192.0.2.9' } },
    expected: { view: { clientAddress: '192.0.2.9', peerAddress: '10.9.9.9' } },
  },
  {
    name: "'*' trusts every peer",
    options: { trustedProxy: '*', trustedProxyHeaders: XFF },
    request: { peer: '203.0.113.50', headers: { 'X-Forwarded-For': '192.0.2.9' } },
    expected: { view: { clientAddress: '192.0.2.9' } },
  },
  {
    name: 'a Unix-socket peer is "localhost", as in waitress',
    options: { trustedProxy: 'localhost', trustedProxyHeaders: XFF },
    request: { peer: null, headers: { 'X-Forwarded-For': '192.0.2.9' } },
    expected: { view: { clientAddress: '192.0.2.9', peerAddress: 'localhost' } },
  },
  {
    name: 'a Unix-socket peer is not trusted by loopback',
    options: { trustedProxy: 'loopback', trustedProxyHeaders: XFF },
    request: { peer: null, headers: { 'X-Forwarded-For': '192.0.2.9' } },
    expected: { view: { clientAddress: 'localhost', peerTrusted: false } },
  },
  {
    name: 'IPv6 trusted entry written differently from the peer still matches',
    options: { trustedProxy: '2001:DB8:0:0::1', trustedProxyHeaders: XFF },
    request: { peer: '2001:db8::1', headers: { 'X-Forwarded-For': '192.0.2.9' } },
    expected: { view: { clientAddress: '192.0.2.9' } },
  },
];

const hops: Row[] = [
  {
    name: 'rightmost untrusted entry is the client, not a spoofed prefix (requireTrustedHops)',
    options: {
      trustedProxy: ['10.0.0.0/8'],
      trustedProxyCount: Infinity,
      requireTrustedHops: true,
      trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-host'],
    },
    request: {
      peer: '10.0.0.1',
      headers: {
        'X-Forwarded-For': '6.6.6.6, 198.51.100.7, 10.0.0.2',
        'X-Forwarded-Host': 'forged.example, example.com, internal.example',
      },
    },
    expected: {
      view: {
        clientAddress: '198.51.100.7',
        ips: ['198.51.100.7', '10.0.0.2'],
        host: 'example.com',
      },
      headers: {
        'x-forwarded-for': '198.51.100.7, 10.0.0.2',
        'x-forwarded-host': 'example.com, internal.example',
      },
    },
  },
  {
    name: 'requireTrustedHops stops at the count even when every hop is trusted',
    options: {
      trustedProxy: '10.0.0.0/8',
      trustedProxyCount: 2,
      requireTrustedHops: true,
      trustedProxyHeaders: XFF,
    },
    request: { peer: '10.0.0.1', headers: { 'X-Forwarded-For': '10.0.0.9, 10.0.0.8, 10.0.0.7' } },
    expected: { view: { clientAddress: '10.0.0.8', ips: ['10.0.0.8', '10.0.0.7'] } },
  },
  {
    name: 'requireTrustedHops never parses what lies beyond the client',
    options: {
      trustedProxy: '10.0.0.0/8',
      trustedProxyCount: 5,
      requireTrustedHops: true,
      trustedProxyHeaders: XFF,
    },
    request: { peer: '10.0.0.1', headers: { 'X-Forwarded-For': '"broken, 198.51.100.7' } },
    expected: { view: { clientAddress: '198.51.100.7' } },
  },
  {
    name: 'without requireTrustedHops the count alone decides (waitress)',
    options: { trustedProxy: '10.0.0.0/8', trustedProxyCount: 2, trustedProxyHeaders: XFF },
    request: { peer: '10.0.0.1', headers: { 'X-Forwarded-For': '6.6.6.6, 198.51.100.7' } },
    expected: { view: { clientAddress: '6.6.6.6' } },
  },
  {
    name: 'requireTrustedHops with Forwarded: the first untrusted for is the client',
    options: {
      trustedProxy: '10.0.0.0/8',
      trustedProxyCount: Infinity,
      requireTrustedHops: true,
      trustedProxyHeaders: 'forwarded',
    },
    request: {
      peer: '10.0.0.1',
      headers: {
        Forwarded:
          'for=6.6.6.6;host=forged.example, for=198.51.100.7;host=example.com;proto=https, for=10.0.0.2',
      },
    },
    expected: {
      view: { clientAddress: '198.51.100.7', host: 'example.com', scheme: 'https' },
      headers: { forwarded: 'for=198.51.100.7;host=example.com;proto=https, for=10.0.0.2' },
    },
  },
  {
    name: 'trustedProxyCount Infinity trusts the whole chain',
    options: { trustedProxy: '*', trustedProxyCount: Infinity, trustedProxyHeaders: XFF },
    request: { headers: { 'X-Forwarded-For': '192.0.2.1, 192.0.2.2, 192.0.2.3' } },
    expected: {
      view: { clientAddress: '192.0.2.1', ips: ['192.0.2.1', '192.0.2.2', '192.0.2.3'] },
    },
  },
  {
    name: 'fewer entries than the count: the oldest is the client',
    options: { trustedProxy: '*', trustedProxyCount: 3, trustedProxyHeaders: XFF },
    request: { headers: { 'X-Forwarded-For': '192.0.2.1' } },
    expected: { view: { clientAddress: '192.0.2.1' } },
  },
];

const values: Row[] = [
  {
    name: 'X-Forwarded-For with a port gives the client port',
    options: { trustedProxy: '*', trustedProxyHeaders: XFF },
    request: { headers: { 'X-Forwarded-For': '192.0.2.1:4711' } },
    expected: { view: { clientAddress: '192.0.2.1', clientPort: 4711 } },
  },
  {
    name: 'X-Forwarded-For bracketed IPv6 with a port',
    options: { trustedProxy: '*', trustedProxyHeaders: XFF },
    request: { headers: { 'X-Forwarded-For': '[2001:db8::1]:4711' } },
    expected: { view: { clientAddress: '2001:db8::1', clientPort: 4711 } },
  },
  {
    name: 'X-Forwarded-For quoted entry is unquoted',
    options: { trustedProxy: '*', trustedProxyHeaders: XFF },
    request: { headers: { 'X-Forwarded-For': '"[2001:db8::1]"' } },
    expected: { view: { clientAddress: '2001:db8::1' } },
  },
  {
    name: 'X-Forwarded-For IPv4-mapped IPv6 is the IPv4 client',
    options: { trustedProxy: '*', trustedProxyHeaders: XFF },
    request: { headers: { 'X-Forwarded-For': '::ffff:192.0.2.1' } },
    expected: { view: { clientAddress: '192.0.2.1' } },
  },
  {
    name: 'X-Forwarded-For "unknown" is passed on, as waitress does',
    options: { trustedProxy: '*', trustedProxyHeaders: XFF },
    request: { headers: { 'X-Forwarded-For': 'unknown' } },
    expected: { view: { clientAddress: 'unknown' } },
  },
  {
    name: 'X-Forwarded-For that is not an address is malformed',
    options: { trustedProxy: '*', trustedProxyHeaders: XFF },
    request: { headers: { 'X-Forwarded-For': 'evil.example' } },
    expected: { malformed: 'X-Forwarded-For' },
  },
  {
    name: 'X-Forwarded-For with a port 0 is malformed',
    options: { trustedProxy: '*', trustedProxyHeaders: XFF },
    request: { headers: { 'X-Forwarded-For': '192.0.2.1:0' } },
    expected: { malformed: 'X-Forwarded-For' },
  },
  {
    name: 'a broken entry outside the trusted window is never read',
    options: { trustedProxy: '*', trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-host'] },
    request: {
      headers: { 'X-Forwarded-For': '"oops, 192.0.2.1', 'X-Forwarded-Host': 'a b, example.com' },
    },
    expected: {
      view: { clientAddress: '192.0.2.1', host: 'example.com' },
      headers: { 'x-forwarded-for': '192.0.2.1', 'x-forwarded-host': 'example.com' },
    },
  },
  {
    name: 'empty list elements are skipped (RFC 7230 section 7)',
    options: { trustedProxy: '*', trustedProxyCount: 2, trustedProxyHeaders: XFF },
    request: { headers: { 'X-Forwarded-For': '192.0.2.1, , 192.0.2.2,' } },
    expected: { view: { clientAddress: '192.0.2.1', ips: ['192.0.2.1', '192.0.2.2'] } },
  },
  {
    name: 'lines joined by Node with ", " read as one list',
    options: { trustedProxy: '*', trustedProxyCount: 2, trustedProxyHeaders: XFF },
    request: { headers: { 'X-Forwarded-For': '192.0.2.1, 192.0.2.2' } },
    expected: { view: { clientAddress: '192.0.2.1' } },
  },
  {
    name: 'X-Forwarded-Proto is case-insensitive and quoted values are unquoted',
    options: { trustedProxy: '*', trustedProxyHeaders: ['x-forwarded-proto'] },
    request: { headers: { 'X-Forwarded-Proto': '"HTTPS"' } },
    expected: { view: { scheme: 'https', port: 443 } },
  },
  {
    name: 'X-Forwarded-Proto javascript is malformed',
    options: { trustedProxy: '*', trustedProxyHeaders: ['x-forwarded-proto'] },
    request: { headers: { 'X-Forwarded-Proto': 'javascript' } },
    expected: { malformed: 'X-Forwarded-Proto' },
  },
  {
    name: 'X-Forwarded-Port that is not a port is malformed',
    options: { trustedProxy: '*', trustedProxyHeaders: ['x-forwarded-port'] },
    request: { headers: { 'X-Forwarded-Port': '1e3' } },
    expected: { malformed: 'X-Forwarded-Port' },
  },
  {
    name: 'X-Forwarded-Port alone sets the port',
    options: { trustedProxy: '*', trustedProxyHeaders: ['x-forwarded-port'] },
    request: { headers: { Host: 'example.com', 'X-Forwarded-Port': '8443' } },
    expected: { view: { port: 8443, host: 'example.com' } },
  },
  {
    name: 'a forwarded host that is a path is malformed',
    options: { trustedProxy: '*', trustedProxyHeaders: ['x-forwarded-host'] },
    request: { headers: { 'X-Forwarded-Host': 'evil.com/x' } },
    expected: { malformed: 'X-Forwarded-Host' },
  },
  {
    name: 'a forwarded host with userinfo is malformed',
    options: { trustedProxy: '*', trustedProxyHeaders: ['x-forwarded-host'] },
    request: { headers: { 'X-Forwarded-Host': 'user@evil.com' } },
    expected: { malformed: 'X-Forwarded-Host' },
  },
  {
    name: 'a forwarded host with port 65536 is malformed',
    options: { trustedProxy: '*', trustedProxyHeaders: ['x-forwarded-host'] },
    request: { headers: { 'X-Forwarded-Host': 'example.com:65536' } },
    expected: { malformed: 'X-Forwarded-Host' },
  },
  {
    name: 'a forwarded IPv6 host keeps its brackets in the hostname',
    options: { trustedProxy: '*', trustedProxyHeaders: ['x-forwarded-host', 'x-forwarded-proto'] },
    request: {
      headers: { 'X-Forwarded-Host': '[2001:db8::5]:8443', 'X-Forwarded-Proto': 'https' },
    },
    expected: { view: { hostname: '[2001:db8::5]', host: '[2001:db8::5]:8443', port: 8443 } },
  },
  {
    name: 'a forwarded host with the default port written keeps it, as waitress does',
    options: { trustedProxy: '*', trustedProxyHeaders: ['x-forwarded-host', 'x-forwarded-proto'] },
    request: { headers: { 'X-Forwarded-Host': 'example.com:443', 'X-Forwarded-Proto': 'https' } },
    expected: { view: { host: 'example.com:443', hostname: 'example.com', port: 443 } },
  },
  {
    name: 'Forwarded values are lower-cased, as waitress does',
    options: { trustedProxy: '*', trustedProxyHeaders: 'forwarded' },
    request: { headers: { Forwarded: 'For=192.0.2.1;Host=Example.COM;Proto=HTTPS' } },
    expected: { view: { host: 'example.com', scheme: 'https' } },
  },
  {
    name: 'Forwarded for an obfuscated identifier',
    options: { trustedProxy: '*', trustedProxyHeaders: 'forwarded' },
    request: { headers: { Forwarded: 'for=_hidden' } },
    expected: { view: { clientAddress: '_hidden', clientPort: undefined } },
  },
  {
    name: 'Forwarded for with an obfuscated port gives no port',
    options: { trustedProxy: '*', trustedProxyHeaders: 'forwarded' },
    request: { headers: { Forwarded: 'for="192.0.2.1:_p1"' } },
    expected: { view: { clientAddress: '192.0.2.1', clientPort: undefined } },
  },
  {
    name: 'Forwarded with a parameter twice in one element is malformed (RFC 7239 section 4)',
    options: { trustedProxy: '*', trustedProxyHeaders: 'forwarded' },
    request: { headers: { Forwarded: 'for=192.0.2.1;for=192.0.2.2' } },
    expected: { malformed: 'Forwarded' },
  },
  {
    name: 'Forwarded proto ftp is malformed and named as Forwarded',
    options: { trustedProxy: '*', trustedProxyHeaders: 'forwarded' },
    request: { headers: { Forwarded: 'for=192.0.2.1;proto=ftp' } },
    expected: { malformed: 'Forwarded' },
  },
  {
    name: 'Forwarded element without for: the client is the peer',
    options: { trustedProxy: '*', trustedProxyHeaders: 'forwarded' },
    request: { headers: { Forwarded: 'host=example.com;proto=https' } },
    expected: {
      view: { clientAddress: '127.0.0.1', host: 'example.com', scheme: 'https', ips: [] },
    },
  },
  {
    name: 'Forwarded bare IPv6 for is read whole',
    options: { trustedProxy: '*', trustedProxyHeaders: 'forwarded' },
    request: { headers: { Forwarded: 'for="2001:db8::7"' } },
    expected: { view: { clientAddress: '2001:db8::7', clientPort: undefined } },
  },
  {
    name: 'Forwarded trusted: X-Forwarded-* are ignored and removed',
    options: { trustedProxy: '*', trustedProxyHeaders: 'forwarded' },
    request: {
      headers: {
        Forwarded: 'for=192.0.2.1',
        'X-Forwarded-For': '6.6.6.6',
        'X-Forwarded-Proto': 'https',
      },
    },
    expected: {
      view: { clientAddress: '192.0.2.1', scheme: 'http' },
      headers: {
        forwarded: 'for=192.0.2.1',
        'x-forwarded-for': undefined,
        'x-forwarded-proto': undefined,
      },
    },
  },
  {
    name: 'X-Forwarded-* trusted: Forwarded is ignored and removed',
    options: { trustedProxy: '*', trustedProxyHeaders: XFF },
    request: { headers: { Forwarded: 'for=6.6.6.6', 'X-Forwarded-For': '192.0.2.1' } },
    expected: { view: { clientAddress: '192.0.2.1' }, headers: { forwarded: undefined } },
  },
];

const schemeAndPrefix: Row[] = [
  {
    name: 'a TLS socket gives https and its port',
    options: {},
    request: { encrypted: true, localPort: 8443, headers: { Host: 'example.com:8443' } },
    expected: { view: { scheme: 'https', port: 8443, host: 'example.com:8443' } },
  },
  {
    name: 'urlScheme sets the scheme when no header gives one',
    options: { urlScheme: 'https' },
    request: { headers: { Host: 'example.com' } },
    expected: { view: { scheme: 'https', port: 8080 } },
  },
  {
    name: 'urlScheme https: a forwarded port 443 is the default and leaves the host bare',
    options: {
      urlScheme: 'https',
      trustedProxy: '*',
      trustedProxyHeaders: ['x-forwarded-host', 'x-forwarded-port'],
    },
    request: { headers: { 'X-Forwarded-Host': 'example.com', 'X-Forwarded-Port': '443' } },
    expected: { view: { host: 'example.com', port: 443, scheme: 'https' } },
  },
  {
    name: 'a trusted proto beats urlScheme',
    options: { urlScheme: 'https', trustedProxy: '*', trustedProxyHeaders: ['x-forwarded-proto'] },
    request: { headers: { 'X-Forwarded-Proto': 'http' } },
    expected: { view: { scheme: 'http', port: 80 } },
  },
  {
    name: 'urlPrefix is stripped from a path below it',
    options: { urlPrefix: '/foo' },
    request: { url: '/foo/api/x?y=1' },
    expected: { view: { prefix: '/foo', path: '/api/x?y=1' } },
  },
  {
    name: 'urlPrefix equal to the path leaves an empty path',
    options: { urlPrefix: '/foo' },
    request: { url: '/foo' },
    expected: { view: { prefix: '/foo', path: '' } },
  },
  {
    name: 'urlPrefix equal to the path, with a query',
    options: { urlPrefix: '/foo' },
    request: { url: '/foo?x=1' },
    expected: { view: { prefix: '/foo', path: '?x=1' } },
  },
  {
    name: 'urlPrefix is not stripped from a longer segment',
    options: { urlPrefix: '/foo' },
    request: { url: '/foobar/x' },
    expected: { view: { prefix: '/foo', path: '/foobar/x' } },
  },
  {
    name: 'urlPrefix is not stripped from an unrelated path, and SCRIPT_NAME is still set',
    options: { urlPrefix: '/foo' },
    request: { url: '/bar' },
    expected: { view: { prefix: '/foo', path: '/bar' } },
  },
  {
    name: 'urlPrefix is normalized: one leading slash, no trailing slash',
    options: { urlPrefix: '//foo/bar//' },
    request: { url: '/foo/bar/baz' },
    expected: { view: { prefix: '/foo/bar', path: '/baz' } },
  },
  {
    name: 'urlPrefix without a leading slash',
    options: { urlPrefix: 'foo' },
    request: { url: '/foo/x' },
    expected: { view: { prefix: '/foo', path: '/x' } },
  },
  {
    name: 'urlPrefix of only slashes means no prefix',
    options: { urlPrefix: '/' },
    request: { url: '/x' },
    expected: { view: { prefix: '', path: '/x' } },
  },
  {
    name: 'an absolute-form target is reduced to its path before the prefix is matched',
    options: { urlPrefix: '/foo' },
    request: { url: 'http://app.example/foo/x?y=1' },
    expected: { view: { prefix: '/foo', path: '/x?y=1' } },
  },
  {
    name: 'an absolute-form target without a path is the root',
    options: {},
    request: { url: 'http://app.example?y=1' },
    expected: { view: { path: '/?y=1' } },
  },
  {
    name: 'an asterisk-form target (OPTIONS *) is left alone',
    options: { urlPrefix: '/foo' },
    request: { url: '*' },
    expected: { view: { path: '*' } },
  },
  {
    name: 'HTTP/2 :authority stands in for a missing Host',
    options: {},
    request: { headers: { ':authority': 'example.com:8443' } },
    expected: { view: { host: 'example.com:8443', hostname: 'example.com' } },
  },
  {
    name: 'no Host header: no host and no hostname',
    options: {},
    request: { headers: {} },
    expected: { view: { host: undefined, hostname: undefined } },
  },
  {
    name: 'direct Host with a bracketed IPv6 address',
    options: {},
    request: { headers: { Host: '[::1]:3000' } },
    expected: { view: { host: '[::1]:3000', hostname: '[::1]' } },
  },
];

/** The single client-IP headers, each with its usual spelling. */
const SINGLE_CLIENT_IP: readonly (readonly [string, string])[] = [
  ['x-real-ip', 'X-Real-IP'],
  ['cf-connecting-ip', 'CF-Connecting-IP'],
  ['true-client-ip', 'True-Client-IP'],
  ['fastly-client-ip', 'Fastly-Client-IP'],
];

/** A CDN (or nginx with X-Real-IP) at 10.0.0.5 in front of the app. */
const singleClientIp: Row[] = SINGLE_CLIENT_IP.flatMap(([name, display]): Row[] => {
  const trusted = { trustedProxy: '10.0.0.5', trustedProxyHeaders: [name, 'x-forwarded-proto'] };
  return [
    {
      name: `${display} from a trusted proxy is the client address, and is kept`,
      options: trusted,
      request: {
        peer: '10.0.0.5',
        headers: { [display]: '198.51.100.7', 'X-Forwarded-Proto': 'https' },
      },
      expected: {
        view: {
          clientAddress: '198.51.100.7',
          clientPort: undefined,
          ips: ['198.51.100.7'],
          scheme: 'https',
        },
        headers: { [name]: '198.51.100.7' },
      },
    },
    {
      name: `${display} with a port gives the client port`,
      options: trusted,
      request: { peer: '10.0.0.5', headers: { [display]: '198.51.100.7:4711' } },
      expected: { view: { clientAddress: '198.51.100.7', clientPort: 4711 } },
    },
    {
      name: `${display} with an IPv6 address, bracketed with a port, in RFC 5952 form`,
      options: trusted,
      request: { peer: '10.0.0.5', headers: { [display]: '[2001:DB8:0::1]:443' } },
      expected: { view: { clientAddress: '2001:db8::1', clientPort: 443, ips: ['2001:db8::1'] } },
    },
    {
      name: `${display} with an IPv4-mapped address is shown as IPv4`,
      options: trusted,
      request: { peer: '10.0.0.5', headers: { [display]: '::ffff:198.51.100.7' } },
      expected: { view: { clientAddress: '198.51.100.7' } },
    },
    {
      name: `${display} with two values (a list) is malformed: something passed a client's through`,
      options: trusted,
      request: { peer: '10.0.0.5', headers: { [display]: '6.6.6.6, 198.51.100.7' } },
      expected: { malformed: display },
    },
    ...['unknown', '_hidden', 'example.com', '010.0.0.1', '', '1.2.3.4:0'].map((value): Row => ({
      name: `${display}: ${JSON.stringify(value)} is not an IP address: malformed`,
      options: trusted,
      request: { peer: '10.0.0.5', headers: { [display]: value } },
      expected: { malformed: display },
    })),
    {
      name: `${display} from an untrusted peer is ignored and removed`,
      options: trusted,
      request: { peer: '10.0.0.9', headers: { [display]: '6.6.6.6' } },
      expected: { view: { clientAddress: '10.0.0.9', ips: [] }, headers: { [name]: undefined } },
    },
    {
      name: `${display} from a trusted proxy that trusts X-Forwarded-For instead is removed`,
      options: { trustedProxy: '10.0.0.5', trustedProxyHeaders: XFF },
      request: {
        peer: '10.0.0.5',
        headers: { [display]: '6.6.6.6', 'X-Forwarded-For': '198.51.100.7' },
      },
      expected: { view: { clientAddress: '198.51.100.7' }, headers: { [name]: undefined } },
    },
    {
      name: `trusted ${display} absent: the peer is the client, and X-Forwarded-For is removed`,
      options: trusted,
      request: { peer: '10.0.0.5', headers: { 'X-Forwarded-For': '6.6.6.6' } },
      expected: { view: { clientAddress: '10.0.0.5' }, headers: { 'x-forwarded-for': undefined } },
    },
    {
      name: `${display} with X-Forwarded-Host and a count of 2: the count applies to the host list only`,
      options: {
        trustedProxy: '10.0.0.5',
        trustedProxyHeaders: [name, 'x-forwarded-host'],
        trustedProxyCount: 2,
      },
      request: {
        peer: '10.0.0.5',
        headers: {
          [display]: '198.51.100.7',
          'X-Forwarded-Host': 'evil.example, app.example, lb.internal',
        },
      },
      expected: {
        view: { clientAddress: '198.51.100.7', host: 'app.example', ips: ['198.51.100.7'] },
      },
    },
  ];
});

/** A proxy that strips `/app` and says so in X-Forwarded-Prefix (Traefik, Spring, ASP.NET). */
const PREFIXED = {
  trustedProxy: '10.0.0.5',
  trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-prefix'],
};

const forwardedPrefix: Row[] = [
  {
    name: 'X-Forwarded-Prefix from a trusted proxy becomes the prefix; the path is left as the proxy sent it',
    options: PREFIXED,
    request: { peer: '10.0.0.5', headers: { 'X-Forwarded-Prefix': '/app' }, url: '/api/x?q=1' },
    expected: {
      view: { prefix: '/app', path: '/api/x?q=1' },
      headers: { 'x-forwarded-prefix': '/app' },
    },
  },
  {
    name: 'X-Forwarded-Prefix followed by urlPrefix when the path still starts with it',
    options: { ...PREFIXED, urlPrefix: '/v2' },
    request: { peer: '10.0.0.5', headers: { 'X-Forwarded-Prefix': '/app' }, url: '/v2/api' },
    expected: { view: { prefix: '/app/v2', path: '/api' } },
  },
  {
    name: 'X-Forwarded-Prefix without urlPrefix when the path does not start with it',
    options: { ...PREFIXED, urlPrefix: '/v2' },
    request: { peer: '10.0.0.5', headers: { 'X-Forwarded-Prefix': '/app' }, url: '/api' },
    expected: { view: { prefix: '/app', path: '/api' } },
  },
  {
    name: 'a URL in the query of a path outside urlPrefix does not add urlPrefix (origin-form is not absolute-form)',
    options: { ...PREFIXED, urlPrefix: '/v2' },
    request: {
      peer: '10.0.0.5',
      headers: { 'X-Forwarded-Prefix': '/app' },
      url: '/other?next=http://b/v2/c',
    },
    expected: { view: { prefix: '/app', path: '/other?next=http://b/v2/c' } },
  },
  {
    name: 'a trailing slash in X-Forwarded-Prefix is normalized away, and "/" is no prefix',
    options: PREFIXED,
    request: { peer: '10.0.0.5', headers: { 'X-Forwarded-Prefix': '/app/' } },
    expected: { view: { prefix: '/app' } },
  },
  {
    name: 'X-Forwarded-Prefix "/" is no prefix',
    options: PREFIXED,
    request: { peer: '10.0.0.5', headers: { 'X-Forwarded-Prefix': '/' } },
    expected: { view: { prefix: '' } },
  },
  {
    name: 'several X-Forwarded-Prefix values: the oldest inside the window, the rest cut',
    options: { ...PREFIXED, trustedProxyCount: 2 },
    request: {
      peer: '10.0.0.5',
      headers: {
        'X-Forwarded-For': '198.51.100.7, 10.0.0.4',
        'X-Forwarded-Prefix': '/evil, /outer, /inner',
      },
    },
    expected: { view: { prefix: '/outer' }, headers: { 'x-forwarded-prefix': '/outer, /inner' } },
  },
  {
    name: 'percent-encoded characters other than "/", "\\" and "." are kept',
    options: PREFIXED,
    request: { peer: '10.0.0.5', headers: { 'X-Forwarded-Prefix': '/caf%C3%A9/a:b@c' } },
    expected: { view: { prefix: '/caf%C3%A9/a:b@c' } },
  },
  {
    name: 'X-Forwarded-Prefix from an untrusted peer is ignored and removed',
    options: PREFIXED,
    request: { peer: '10.0.0.9', headers: { 'X-Forwarded-Prefix': '//evil.example' } },
    expected: { view: { prefix: '' }, headers: { 'x-forwarded-prefix': undefined } },
  },
  {
    name: 'X-Forwarded-Prefix not in trustedProxyHeaders is removed',
    options: { trustedProxy: '10.0.0.5', trustedProxyHeaders: ['x-forwarded-for'] },
    request: { peer: '10.0.0.5', headers: { 'X-Forwarded-Prefix': '/app' } },
    expected: { view: { prefix: '' }, headers: { 'x-forwarded-prefix': undefined } },
  },
  {
    name: 'X-Forwarded-Prefix may be trusted beside Forwarded, which has no prefix parameter',
    options: { trustedProxy: '10.0.0.5', trustedProxyHeaders: ['forwarded', 'x-forwarded-prefix'] },
    request: {
      peer: '10.0.0.5',
      headers: { Forwarded: 'for=198.51.100.7', 'X-Forwarded-Prefix': '/app' },
    },
    expected: { view: { prefix: '/app', clientAddress: '198.51.100.7' } },
  },
  ...[
    ['a scheme-relative URL', '//evil.example'],
    ['a scheme-relative URL with a path', '//evil.example/x'],
    ['an absolute URL', 'https://evil.example'],
    ['a relative path', 'app'],
    ['a ".." segment', '/a/../b'],
    ['a "." segment', '/a/./b'],
    ['an encoded slash', '/a%2Fb'],
    ['an encoded slash, lower case', '/a%2fb'],
    ['an encoded backslash', '/a%5Cb'],
    ['an encoded dot', '/%2e%2e/b'],
    ['a backslash', '/a\\b'],
    ['an empty segment', '/a//b'],
    ['a bad percent-encoding', '/a%zz'],
    ['an encoded control character', '/a%0d%0aSet-Cookie:x'],
    ['a space', '/a b'],
    ['a query', '/a?b'],
    ['a fragment', '/a#b'],
    ['a non-ASCII character', '/café'],
    ['10,000 characters', `/${'a'.repeat(10_000)}`],
    ['1,025 characters', `/${'a'.repeat(1024)}`],
  ].map(([what, value]): Row => ({
    name: `X-Forwarded-Prefix with ${what} is malformed`,
    options: PREFIXED,
    request: { peer: '10.0.0.5', headers: { 'X-Forwarded-Prefix': value ?? '' } },
    expected: { malformed: 'X-Forwarded-Prefix' },
  })),
  {
    name: 'X-Forwarded-Prefix of exactly 1,024 characters is taken',
    options: PREFIXED,
    request: { peer: '10.0.0.5', headers: { 'X-Forwarded-Prefix': `/${'a'.repeat(1023)}` } },
    expected: { view: { prefix: `/${'a'.repeat(1023)}` } },
  },
];

const silent = { warn: () => undefined };

describe('resolve', () => {
  describe("the reverse-proxy document's set-ups", () => {
    it.each(documentedSetups)('$name', ({ options, request, expected }) => {
      expectOutcome(runRequest(options, request), expected);
    });
  });
  describe('who is trusted', () => {
    it.each(trustForms)('$name', ({ options, request, expected }) => {
      expectOutcome(runRequest(options, request), expected);
    });
  });
  describe('hops and the trusted window', () => {
    it.each(hops)('$name', ({ options, request, expected }) => {
      expectOutcome(runRequest(options, request), expected);
    });
  });
  describe('values', () => {
    it.each(values)('$name', ({ options, request, expected }) => {
      expectOutcome(runRequest(options, request), expected);
    });
  });
  describe('explain gives exactly what resolve gives, row by row', () => {
    const silent = { warn: () => undefined };
    it.each([
      ...documentedSetups,
      ...trustForms,
      ...hops,
      ...values,
      ...schemeAndPrefix,
      ...singleClientIp,
      ...forwardedPrefix,
    ])('$name', ({ options, request }) => {
      const compiled = compileOptions({ logger: silent, ...options });
      const { input } = testInput(request);
      expect(explain(compiled, input).resolution).toEqual(resolve(compiled, input));
    });
  });

  describe('X-Forwarded-Prefix', () => {
    it.each(forwardedPrefix)('$name', ({ options, request, expected }) => {
      expectOutcome(runRequest(options, request), expected);
    });
  });

  describe('single client-IP headers', () => {
    it.each(singleClientIp)('$name', ({ options, request, expected }) => {
      expectOutcome(runRequest(options, request), expected);
    });
  });

  describe('scheme and prefix', () => {
    it.each(schemeAndPrefix)('$name', ({ options, request, expected }) => {
      expectOutcome(runRequest(options, request), expected);
    });
  });

  it('warns about a malformed header with the peer, the reason and the value', () => {
    const outcome = runRequest(
      { trustedProxy: '*', trustedProxyHeaders: ['x-forwarded-proto'] },
      { peer: '10.0.0.5', headers: { 'X-Forwarded-Proto': 'gopher' } },
    );
    expect(outcome.warnings).toEqual([
      'waitress-proxy: Malformed proxy header "X-Forwarded-Proto" from "10.0.0.5": ' +
        'not "http" or "https"; value: "gopher"',
    ]);
  });

  it('warns once per request however many unknown Forwarded parameters it carries', () => {
    const unknown = Array.from({ length: 1900 }, (_, i) => `x${i}=1`).join(';');
    const outcome = runRequest(
      { trustedProxy: '10.0.0.5', trustedProxyHeaders: 'forwarded', trustedProxyCount: 2 },
      {
        peer: '10.0.0.5',
        headers: { Forwarded: `for=192.0.2.1;secret=1, for=192.0.2.2;${unknown}` },
      },
    );
    expect(outcome.warnings).toEqual([
      'waitress-proxy: Unknown Forwarded token: x0 (and 1900 more unknown parameters, all ignored)',
    ]);
  });

  it('cuts a long unknown Forwarded parameter name in the warning', () => {
    const outcome = runRequest(
      { trustedProxy: '10.0.0.5', trustedProxyHeaders: 'forwarded' },
      { peer: '10.0.0.5', headers: { Forwarded: `for=192.0.2.1;${'y'.repeat(5000)}=1` } },
    );
    expect(outcome.warnings).toEqual([
      `waitress-proxy: Unknown Forwarded token: ${'y'.repeat(64)}...`,
    ]);
  });

  it.each([
    ['fe80::1%eth0', 'fe80::1'],
    ['fe80::1%lo', 'linklocal'],
    ['FE80::A%25', 'fe80::a'],
  ])('trusts a link-local peer %s reported with its zone (trustedProxy %s)', (peer, trusted) => {
    const outcome = runRequest(
      { trustedProxy: trusted, trustedProxyHeaders: ['x-forwarded-for'] },
      { peer, headers: { 'X-Forwarded-For': '192.0.2.1' } },
    );
    expect('view' in outcome && outcome.view).toMatchObject({
      clientAddress: '192.0.2.1',
      peerAddress: peer.slice(0, peer.indexOf('%')),
      peerTrusted: true,
    });
  });

  it('still refuses a zone inside a forwarded address (D3)', () => {
    const outcome = runRequest(
      { trustedProxy: 'linklocal', trustedProxyHeaders: ['x-forwarded-for'] },
      { peer: 'fe80::1%eth0', headers: { 'X-Forwarded-For': 'fe80::2%eth0' } },
    );
    expect(outcome).toMatchObject({ malformed: 'X-Forwarded-For' });
  });

  it('sets :authority with Host when a trusted proxy forwards the host over HTTP/2', () => {
    const result = resolve(
      compileOptions({ trustedProxy: '10.0.0.5', trustedProxyHeaders: ['x-forwarded-host'] }),
      {
        peerAddress: '10.0.0.5',
        peerPort: 4000,
        localPort: 8443,
        encrypted: true,
        headers: { ':authority': 'internal:8443', 'x-forwarded-host': 'app.example' },
        url: '/',
      },
    );
    expect(result.headerChanges).toEqual([
      { name: 'host', value: 'app.example' },
      { name: ':authority', value: 'app.example' },
    ]);
  });

  it('sets :scheme with the scheme when a trusted proxy forwards the proto over HTTP/2', () => {
    const result = resolve(
      compileOptions({ trustedProxy: '10.0.0.5', trustedProxyHeaders: ['x-forwarded-proto'] }),
      {
        peerAddress: '10.0.0.5',
        peerPort: 4000,
        localPort: 8080,
        encrypted: false,
        headers: { ':authority': 'app.example', ':scheme': 'http', 'x-forwarded-proto': 'https' },
        url: '/',
      },
    );
    expect(result.view.scheme).toBe('https');
    expect(result.headerChanges).toEqual([{ name: ':scheme', value: 'https' }]);
  });

  it('keeps the error fields that repeat client text out of what loggers serialize', () => {
    const value = 'x'.repeat(16_000);
    const result = resolve(
      compileOptions({
        trustedProxy: '10.0.0.5',
        trustedProxyHeaders: ['x-forwarded-proto'],
        logger: silent,
      }),
      {
        peerAddress: '10.0.0.5',
        peerPort: 4000,
        localPort: 8080,
        encrypted: false,
        headers: { host: 'app.example', 'x-forwarded-proto': value },
        url: '/',
      },
    );
    if (result.ok) throw new Error('expected a malformed header');
    expect(result.error).toMatchObject({ header: 'X-Forwarded-Proto', value });
    // What pino (Fastify's logger) writes: the error's own enumerable fields.
    expect(JSON.stringify(Object.fromEntries(Object.entries(result.error))).length).toBeLessThan(
      300,
    );
  });

  it.each([
    ['a stranger', '192.0.2.9', {}],
    ['a trusted proxy forwarding the host', '10.0.0.5', { 'x-forwarded-host': 'app.example' }],
  ])(
    'refuses %s whose Host differs from :authority (RFC 9113 8.3.1), whatever allowedHosts passes',
    (_who, peer, extra) => {
      const logger = new RecordingLogger();
      const result = resolve(
        compileOptions({
          trustedProxy: '10.0.0.5',
          trustedProxyHeaders: ['x-forwarded-host', 'x-forwarded-for'],
          allowedHosts: ['app.example', 'evil.example'],
          logger,
        }),
        {
          peerAddress: peer,
          peerPort: 4000,
          localPort: 8443,
          encrypted: true,
          headers: {
            ':authority': 'app.example',
            host: 'evil.example',
            'x-forwarded-for': '203.0.113.66',
            ...extra,
          },
          url: '/',
        },
      );
      expect(result).toMatchObject({
        ok: false,
        error: { name: 'MalformedProxyHeaderError', header: 'Host', statusCode: 400 },
        view: { clientAddress: peer, host: 'evil.example' },
      });
      expect(result.headerChanges.map((change) => change.name)).toContain('x-forwarded-for');
      expect(logger.messages).toEqual([
        `waitress-proxy: Refused a request from "${peer}" whose Host differs from its :authority: "evil.example" and "app.example"`,
      ]);
    },
  );

  it.each([
    ['the same host', 'app.example:8443', 'app.example:8443'],
    ['the same host in another case', 'App.Example', 'app.example'],
    ['no Host beside :authority', undefined, 'app.example'],
  ])('accepts an HTTP/2 request with %s', (_name, host, authority) => {
    const result = resolve(compileOptions({ logger: new RecordingLogger() }), {
      peerAddress: '192.0.2.9',
      peerPort: 4000,
      localPort: 8443,
      encrypted: true,
      headers: { ':authority': authority, ...(host === undefined ? {} : { host }) },
      url: '/',
    });
    expect(result.ok).toBe(true);
  });

  it('refuses a trusted proxy over the header-line cap with 431 before reading any header', () => {
    const logger = new RecordingLogger();
    const result = resolve(
      compileOptions({
        trustedProxy: '10.0.0.5',
        trustedProxyHeaders: ['x-forwarded-for'],
        logger,
      }),
      {
        peerAddress: '10.0.0.5',
        peerPort: 4000,
        localPort: 8080,
        encrypted: false,
        // Malformed too: it must not be read, so the error is the cap's.
        headers: { host: 'app', 'x-forwarded-for': 'not an address' },
        url: '/',
        headersTruncated: true,
      },
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(TooManyHeadersError);
    expect(result.error).toMatchObject({ statusCode: 431, status: 431, expose: true });
    expect(result.view).toMatchObject({ clientAddress: '10.0.0.5', host: 'app' });
    // Every proxy header name, present in `headers` or not: lines past the cap may hold one.
    expect(result.headerChanges).toEqual(
      PROXY_HEADER_NAMES.map((name) => ({ name, value: undefined })),
    );
    expect(logger.messages).toEqual([
      'waitress-proxy: Refused a request from trusted proxy "10.0.0.5" with more header lines ' +
        "than the server keeps (Node's server.maxHeadersCount): its proxy headers may have " +
        'been dropped.',
    ]);
  });

  it('removes every proxy header name from an untrusted peer over the header-line cap', () => {
    const result = resolve(compileOptions({ trustedProxy: '10.0.0.5' }), {
      peerAddress: '10.0.0.9',
      peerPort: 4000,
      localPort: 8080,
      encrypted: false,
      headers: { host: 'app' },
      url: '/',
      headersTruncated: true,
    });
    expect(result).toMatchObject({ ok: true, view: { clientAddress: '10.0.0.9' } });
    expect(result.headerChanges).toEqual(
      PROXY_HEADER_NAMES.map((name) => ({ name, value: undefined })),
    );
  });

  it('gives a malformed request the direct view and removes every proxy header', () => {
    const compiled = compileOptions({
      trustedProxy: '10.0.0.5',
      trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'],
      logUntrustedProxyHeaders: true,
      logger: { warn: () => undefined },
    });
    const result = resolve(compiled, {
      peerAddress: '10.0.0.5',
      peerPort: 4000,
      localPort: 8080,
      encrypted: false,
      // The proto is read (and would set https) before the host is refused.
      headers: {
        host: 'internal:8080',
        'x-forwarded-for': '198.51.100.7',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'evil.com/x',
        'x-forwarded-by': 'proxy',
      },
      url: '/',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ header: 'X-Forwarded-Host', statusCode: 400 });
    expect(result.view).toEqual({
      clientAddress: '10.0.0.5',
      clientPort: 4000,
      scheme: 'http',
      host: 'internal:8080',
      hostname: 'internal',
      port: 8080,
      prefix: '',
      path: '/',
      ips: [],
      peerAddress: '10.0.0.5',
      peerTrusted: true,
    });
    expect(result.headerChanges.map((change) => [change.name, change.value])).toEqual([
      ['x-forwarded-for', undefined],
      ['x-forwarded-host', undefined],
      ['x-forwarded-proto', undefined],
      ['x-forwarded-by', undefined],
    ]);
  });

  it('changes no header a single trusted proxy already wrote exactly', () => {
    const compiled = compileOptions({
      trustedProxy: '10.0.0.5',
      trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto'],
    });
    const result = resolve(compiled, {
      peerAddress: '10.0.0.5',
      peerPort: 1,
      localPort: 8080,
      encrypted: false,
      headers: {
        host: 'example.com',
        'x-forwarded-for': '198.51.100.7',
        'x-forwarded-host': 'example.com',
        'x-forwarded-proto': 'https',
      },
      url: '/',
    });
    expect(result.ok && result.headerChanges).toEqual([]);
  });

  it.each([
    ['/foo/api/x?y=1', '/api/x?y=1'],
    ['/foo', '/'],
    ['/foo?y=1', '/?y=1'],
    ['/foobar', '/foobar'],
    ['http://app.example/foo/x', '/x'],
    ['*', '*'],
  ])('routeUrl strips urlPrefix /foo from %j and keeps a leading slash: %j', (url, expected) => {
    expect(routeUrl(compileOptions({ urlPrefix: '/foo' }), url)).toBe(expected);
  });

  it('requestInput reads the socket and headers of a Node request', () => {
    const headers = { host: 'example.com' };
    const tls = { remoteAddress: '::1', remotePort: 5, localPort: 443, encrypted: true };
    expect(requestInput({ socket: tls, headers, url: '/a' })).toEqual({
      peerAddress: '::1',
      peerPort: 5,
      localPort: 443,
      encrypted: true,
      headers,
      url: '/a',
      headersTruncated: false,
    });
    const unixServer = { address: () => '/run/app.sock' };
    expect(requestInput({ socket: { server: unixServer }, headers }, '/as-received')).toMatchObject(
      {
        peerAddress: undefined,
        encrypted: false,
        url: '/as-received',
      },
    );
    expect(requestInput({ socket: {}, headers }).url).toBe('/');
  });

  it.each([
    ['a TCP server', { server: { address: () => ({ address: '127.0.0.1', port: 8080 }) } }],
    ['a closed server', { server: { address: () => null } }],
    ['a socket without its server (a cancelled HTTP/2 stream)', {}],
  ])(
    'a connection gone before the request is resolved, on %s, is the unknown peer, never the Unix-socket one',
    (_what, socket) => {
      const headers = { host: 'example.com', 'x-forwarded-for': '6.6.6.6' };
      const input = requestInput({ socket, headers });
      expect(input.peerAddress).toBe('unknown');
      const unix = compileOptions({
        trustedProxy: 'unix',
        trustedProxyHeaders: 'x-forwarded-for',
        logger: silent,
      });
      const result = resolve(unix, input);
      expect(result.view).toMatchObject({ clientAddress: 'unknown', peerTrusted: false });
      expect(result.headerChanges).toEqual([{ name: 'x-forwarded-for', value: undefined }]);
    },
  );

  it('a trust function that throws answers no: the request is resolved as from an untrusted peer', () => {
    const compiled = compileOptions({
      trustedProxy: (address: string) => {
        if (!address.includes('.')) throw new Error(`not IPv4: ${address}`);
        return address === '10.0.0.5';
      },
      trustedProxyHeaders: 'x-forwarded-for',
      logger: silent,
    });
    const result = resolve(compiled, {
      peerAddress: 'unknown',
      peerPort: undefined,
      localPort: 8080,
      encrypted: false,
      headers: { host: 'example.com', 'x-forwarded-for': '6.6.6.6' },
      url: '/',
    });
    expect(result.ok).toBe(true);
    expect(result.view).toMatchObject({ clientAddress: 'unknown', peerTrusted: false });
  });

  it('requestInput takes the peer a PROXY protocol header gave, when a reader left one on the socket', () => {
    const socket = {
      remoteAddress: '10.0.0.1', // the load balancer
      remotePort: 4000,
      localPort: 8080,
      [PROXY_PROTOCOL_PEER]: { address: '203.0.113.7', port: 51000 },
    };
    expect(requestInput({ socket, headers: {} })).toMatchObject({
      peerAddress: '203.0.113.7',
      peerPort: 51000,
      localPort: 8080,
    });
    const unix = { ...socket, [PROXY_PROTOCOL_PEER]: { address: undefined, port: undefined } };
    expect(requestInput({ socket: unix, headers: {} }).peerAddress).toBeUndefined();
  });

  // Node's arithmetic: maxHeadersCount unset keeps 2,000 rawHeaders entries
  // (1,000 lines); a number N keeps N lines; 0 keeps all.
  it.each([
    ['unset', undefined, 1, 999, false],
    ['unset', undefined, 1, 1000, true],
    ['null (Node 20 default)', null, 1, 1000, true],
    ['10', 10, 1, 9, false],
    ['10', 10, 1, 10, true],
    ['2000', 2000, 1, 1000, false],
    ['0 (no cap)', 0, 1, 5000, false],
    ['unset, HTTP/2 (nghttp2 resets instead)', undefined, 2, 5000, false],
  ] as const)(
    'requestInput: maxHeadersCount %s, HTTP/%d, %d lines: truncated %s',
    (_name, maxHeadersCount, httpVersionMajor, lines, truncated) => {
      const rawHeaders = Array.from({ length: lines * 2 }, () => 'x');
      const socket = { server: { maxHeadersCount } };
      expect(
        requestInput({ socket, headers: {}, rawHeaders, httpVersionMajor }).headersTruncated,
      ).toBe(truncated);
    },
  );

  it.each(PROXY_HEADER_NAMES)('removes %s, alone, as untrusted, and nothing else', (name) => {
    const input: RequestInput = {
      peerAddress: '10.0.0.5',
      peerPort: 1,
      localPort: 8080,
      encrypted: false,
      // A proxy header whose value parses for every one of them.
      headers: { host: 'example.com', [name]: '443' },
      url: '/',
    };
    // From an untrusted peer; from a trusted one that trusts every header it
    // can beside one source of the client address that is not this one.
    const source = name === 'x-forwarded-for' ? 'x-real-ip' : 'x-forwarded-for';
    const others = [
      source,
      ...['x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port', 'x-forwarded-by'].filter(
        (other) => other !== name,
      ),
    ];
    for (const options of [
      { trustedProxy: '10.0.0.6' },
      { trustedProxy: '10.0.0.5', trustedProxyHeaders: others },
    ]) {
      const result = resolve(compileOptions(options), input);
      expect(result.headerChanges).toEqual([{ name, value: undefined }]);
    }
  });

  it('logs the names of removed untrusted headers when asked', () => {
    const outcome = runRequest(
      { logUntrustedProxyHeaders: true },
      { headers: { 'X-Forwarded-For': '1.2.3.4', 'X-Forwarded-Host': 'x' } },
    );
    expect(outcome.warnings).toEqual([
      'waitress-proxy: Removed untrusted headers (X-Forwarded-For, X-Forwarded-Host) from ' +
        '"127.0.0.1", which is not a trusted proxy. If it is your proxy, add "127.0.0.1" to ' +
        'trustedProxy; otherwise a client sent them, and the proxy in front should remove them.',
    ]);
  });

  it('names a Unix-socket peer as localhost, and warns once about the 127.0.0.1 trap', () => {
    const logger = new RecordingLogger();
    const compiled = compileOptions({
      trustedProxy: '127.0.0.1',
      trustedProxyHeaders: ['x-forwarded-for'],
      logUntrustedProxyHeaders: true,
      logger,
    });
    const { input } = testInput({ peer: null, headers: { 'X-Forwarded-For': '1.2.3.4' } });
    resolve(compiled, input);
    resolve(compiled, input);
    const trap =
      "waitress-proxy: A Unix-socket peer sent proxy headers, but trustedProxy does not match it: a socket peer has no address, so '127.0.0.1' and 'loopback' do not trust it. If your proxy connects over this socket, add 'unix' to trustedProxy (and let only the proxy open the socket: mode 660, the group of the proxy).";
    const removed =
      'waitress-proxy: Removed untrusted headers (X-Forwarded-For) from "localhost", which is not a trusted proxy. If it is your proxy, add "unix" to trustedProxy (a Unix-socket peer has no address: "127.0.0.1" and "loopback" do not match it); otherwise a client sent them, and the proxy in front should remove them.';
    expect(logger.messages).toEqual([trap, removed, removed]);
  });

  it.each(['unix', 'localhost', 'UNIX'])('trustedProxy %j trusts a Unix-socket peer', (entry) => {
    const outcome = runRequest(
      { trustedProxy: entry, trustedProxyHeaders: ['x-forwarded-for'] },
      { peer: null, headers: { 'X-Forwarded-For': '203.0.113.7' } },
    );
    expect(outcome).toMatchObject({
      view: { clientAddress: '203.0.113.7', peerAddress: 'localhost' },
    });
  });

  it('tells a trusted proxy that sent headers it is not trusted for to list them', () => {
    const outcome = runRequest(
      {
        trustedProxy: '10.0.0.5',
        trustedProxyHeaders: ['x-forwarded-for'],
        logUntrustedProxyHeaders: true,
      },
      { peer: '10.0.0.5', headers: { 'X-Forwarded-For': '1.2.3.4', 'X-Forwarded-Port': '1' } },
    );
    expect(outcome.warnings).toEqual([
      'waitress-proxy: Removed untrusted headers (X-Forwarded-Port) from trusted proxy ' +
        '"10.0.0.5": they are not in trustedProxyHeaders. If the proxy sets them, add them to ' +
        'trustedProxyHeaders; otherwise remove them at the proxy.',
    ]);
  });

  it('does not log removed headers by default', () => {
    const outcome = runRequest({}, { headers: { 'X-Forwarded-For': '1.2.3.4' } });
    expect(outcome.warnings).toEqual([]);
  });

  it('allocates no change list when there is nothing to change', () => {
    const compiled = compileOptions({ trustedProxy: '*', trustedProxyHeaders: XFF });
    const input: RequestInput = {
      peerAddress: '127.0.0.1',
      peerPort: 1,
      localPort: 2,
      encrypted: false,
      headers: { host: 'example.com' },
      url: '/',
    };
    const a = resolve(compiled, input);
    const b = resolve(compiled, input);
    expect(a.ok && b.ok && a.headerChanges === b.headerChanges).toBe(true);
    expect(a.ok && a.headerChanges).toEqual([]);
  });

  it('reads a header given as an array (built by code, not by Node) as one list', () => {
    const logger = { warn: jest.fn() };
    const compiled = compileOptions({
      trustedProxy: '*',
      trustedProxyCount: 2,
      trustedProxyHeaders: XFF,
      logger,
    });
    const result = resolve(compiled, {
      peerAddress: '127.0.0.1',
      peerPort: 1,
      localPort: 2,
      encrypted: false,
      headers: { 'x-forwarded-for': ['192.0.2.1', '192.0.2.2'] },
      url: '/',
    });
    expect(result.ok && result.view.clientAddress).toBe('192.0.2.1');
  });

  it('uses a per-request logger when one is given', () => {
    const compiledLogger = { warn: jest.fn() };
    const requestLogger = { warn: jest.fn() };
    const compiled = compileOptions({
      trustedProxy: '*',
      trustedProxyHeaders: ['x-forwarded-proto'],
      logger: compiledLogger,
    });
    const result = resolve(
      compiled,
      {
        peerAddress: '127.0.0.1',
        peerPort: 1,
        localPort: 2,
        encrypted: false,
        headers: { 'x-forwarded-proto': 'ftp' },
        url: '/',
      },
      requestLogger,
    );
    expect(result.ok).toBe(false);
    expect(requestLogger.warn).toHaveBeenCalledTimes(1);
    expect(compiledLogger.warn).not.toHaveBeenCalled();
  });
});
