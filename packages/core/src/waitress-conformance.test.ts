/**
 * waitress's own tests (tests/test_proxy_headers.py, waitress 3.0.2+), one row
 * each, with waitress's environ keys mapped to the view:
 * REMOTE_ADDR → clientAddress, REMOTE_PORT → clientPort, HTTP_HOST → host,
 * SERVER_NAME → hostname, SERVER_PORT → port, wsgi.url_scheme → scheme.
 *
 * waitress's test environ: peer 127.0.0.1, server port 8080, Host
 * `192.168.1.1:80`, scheme http. Where our answer differs (SERVER_NAME is
 * waitress's configured server name when no forwarded host is trusted; we
 * read the Host header like the frameworks do) the row says so.
 */
import { expectOutcome, runRequest } from './test-support.js';
import type { Row } from './test-support.js';

const HOST = { host: '192.168.1.1:80' };
const XFF_2 = { trustedProxy: '*', trustedProxyCount: 2 } as const;
const ALL_X = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port'];

const rows: Row[] = [
  {
    name: 'untrusted peer: X-Forwarded-Proto does not change the scheme',
    options: {},
    request: { headers: { ...HOST, 'X-Foo': 'BAR', 'X-Forwarded-Proto': 'https' } },
    expected: {
      view: { scheme: 'http', peerTrusted: false },
      headers: { 'x-foo': 'BAR', 'x-forwarded-proto': undefined },
    },
  },
  {
    name: 'trusted peer: X-Forwarded-Proto https sets the scheme and port 443',
    options: { trustedProxy: '192.168.1.1', trustedProxyHeaders: ['x-forwarded-proto'] },
    request: {
      peer: '192.168.1.1',
      headers: { ...HOST, 'X-Foo': 'BAR', 'X-Forwarded-Proto': 'https' },
    },
    expected: {
      view: { scheme: 'https', port: 443, clientAddress: '192.168.1.1' },
      headers: { 'x-foo': 'BAR' },
    },
  },
  {
    name: 'a bogus X-Forwarded-Proto from a trusted peer is malformed',
    options: { trustedProxy: '192.168.1.1', trustedProxyHeaders: ['x-forwarded-proto'] },
    request: {
      peer: '192.168.1.1',
      headers: { ...HOST, 'X-Forwarded-Proto': 'http://p02n3e.com?url=http' },
    },
    expected: { malformed: 'X-Forwarded-Proto' },
  },
  {
    name: 'Forwarded trusted: X-Forwarded-For is removed and logged, Forwarded is used',
    options: {
      trustedProxy: '192.168.1.1',
      trustedProxyCount: 1,
      trustedProxyHeaders: ['forwarded'],
      logUntrustedProxyHeaders: true,
    },
    request: {
      peer: '192.168.1.1',
      headers: {
        ...HOST,
        'X-Forwarded-For': '[2001:db8::1]',
        Forwarded: 'For=198.51.100.2;host=example.com:8080;proto=https',
      },
    },
    expected: {
      view: {
        clientAddress: '198.51.100.2',
        hostname: 'example.com',
        host: 'example.com:8080',
        port: 8080,
        scheme: 'https',
      },
      headers: { 'x-forwarded-for': undefined },
      warnings: 1,
    },
  },
  {
    name: 'clearing off: every proxy header reaches the app unchanged',
    options: {
      trustedProxy: '192.168.1.1',
      trustedProxyHeaders: ['x-forwarded-by'],
      clearUntrustedProxyHeaders: false,
    },
    request: {
      peer: '192.168.1.1',
      headers: {
        'X-Forwarded-For': '198.51.100.2',
        'X-Forwarded-By': 'Waitress',
        'X-Forwarded-Proto': 'https',
        'X-Forwarded-Host': 'example.org',
      },
    },
    expected: {
      view: { clientAddress: '192.168.1.1', scheme: 'http' },
      headers: {
        'x-forwarded-for': '198.51.100.2',
        'x-forwarded-by': 'Waitress',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'example.org',
      },
    },
  },
  {
    name: 'clearing on: only the trusted X-Forwarded-By survives',
    options: { trustedProxy: '192.168.1.1', trustedProxyHeaders: ['x-forwarded-by'] },
    request: {
      peer: '192.168.1.1',
      headers: {
        'X-Forwarded-For': '198.51.100.2',
        'X-Forwarded-By': 'Waitress',
        'X-Forwarded-Proto': 'https',
        'X-Forwarded-Host': 'example.org',
      },
    },
    expected: {
      headers: {
        'x-forwarded-by': 'Waitress',
        'x-forwarded-for': undefined,
        'x-forwarded-proto': undefined,
        'x-forwarded-host': undefined,
      },
    },
  },
  {
    name: 'clearing on, untrusted peer: every proxy header is removed',
    options: { trustedProxy: '192.168.1.1', trustedProxyHeaders: ['x-forwarded-by'] },
    request: {
      peer: '192.168.1.255',
      headers: {
        'X-Forwarded-For': '198.51.100.2',
        'X-Forwarded-By': 'Waitress',
        'X-Forwarded-Proto': 'https',
        'X-Forwarded-Host': 'example.org',
      },
    },
    expected: {
      view: { clientAddress: '192.168.1.255', peerTrusted: false },
      headers: {
        'x-forwarded-by': undefined,
        'x-forwarded-for': undefined,
        'x-forwarded-proto': undefined,
        'x-forwarded-host': undefined,
      },
    },
  },
  {
    name: 'X-Forwarded-For gives the client address',
    options: { trustedProxy: '*', trustedProxyHeaders: ['x-forwarded-for'] },
    request: { headers: { 'X-Forwarded-For': '192.0.2.1' } },
    expected: { view: { clientAddress: '192.0.2.1' } },
  },
  {
    name: 'X-Forwarded-For IPv6 without brackets (in RFC 5952 form: D10)',
    options: { trustedProxy: '*', trustedProxyHeaders: ['x-forwarded-for'] },
    request: { headers: { 'X-Forwarded-For': '2001:db8::0' } },
    expected: { view: { clientAddress: '2001:db8::' } },
  },
  {
    name: 'two trusted hops: the second-to-last X-Forwarded-For entry is the client',
    options: { ...XFF_2, trustedProxyHeaders: ['x-forwarded-for'] },
    request: { headers: { 'X-Forwarded-For': '192.0.2.1, 198.51.100.2, 203.0.113.1' } },
    expected: {
      view: { clientAddress: '198.51.100.2', ips: ['198.51.100.2', '203.0.113.1'] },
      headers: { 'x-forwarded-for': '198.51.100.2, 203.0.113.1' },
    },
  },
  {
    name: 'Forwarded, two trusted hops: the untrusted oldest element is cut',
    options: { ...XFF_2, trustedProxyHeaders: ['forwarded'] },
    request: {
      headers: {
        Forwarded:
          'For=192.0.2.1;host=fake.com, For=198.51.100.2;host=example.com:8080, For=203.0.113.1',
      },
    },
    expected: {
      view: {
        clientAddress: '198.51.100.2',
        hostname: 'example.com',
        host: 'example.com:8080',
        port: 8080,
      },
      headers: { forwarded: 'For=198.51.100.2;host=example.com:8080, For=203.0.113.1' },
    },
  },
  {
    name: 'Forwarded, two trusted hops: the oldest element wins for host, proto and for',
    options: { ...XFF_2, trustedProxyHeaders: ['forwarded'] },
    request: {
      headers: {
        Forwarded:
          'for="[2001:db8::1]:3821";host="example.com:8443";proto="https", ' +
          'for=192.0.2.1;host="example.internal:8080"',
      },
    },
    expected: {
      view: {
        clientAddress: '2001:db8::1',
        clientPort: 3821,
        hostname: 'example.com',
        host: 'example.com:8443',
        port: 8443,
        scheme: 'https',
      },
      headers: {
        forwarded:
          'for="[2001:db8::1]:3821";host="example.com:8443";proto="https", ' +
          'for=192.0.2.1;host="example.internal:8080"',
      },
    },
  },
  {
    name: 'Forwarded, two hops, minimal: host from the newer element, proto from the older',
    options: { ...XFF_2, trustedProxyHeaders: ['forwarded'] },
    request: {
      headers: {
        Forwarded: 'for="[2001:db8::1]";proto="https", for=192.0.2.1;host="example.org"',
      },
    },
    expected: {
      view: {
        clientAddress: '2001:db8::1',
        hostname: 'example.org',
        host: 'example.org',
        port: 443,
        scheme: 'https',
      },
    },
  },
  {
    name: 'X-Forwarded-Host with a port: that port wins',
    options: { ...XFF_2, trustedProxyHeaders: ALL_X.slice(0, 3) },
    request: {
      headers: {
        'X-Forwarded-For': '192.0.2.1, 198.51.100.2, 203.0.113.1',
        'X-Forwarded-Proto': 'http',
        'X-Forwarded-Host': 'example.com:8080',
      },
    },
    expected: {
      view: {
        clientAddress: '198.51.100.2',
        hostname: 'example.com',
        host: 'example.com:8080',
        port: 8080,
      },
      headers: { 'x-forwarded-for': '198.51.100.2, 203.0.113.1', host: 'example.com:8080' },
    },
  },
  {
    name: 'X-Forwarded-Host without a port: the proto default port',
    options: { ...XFF_2, trustedProxyHeaders: ALL_X.slice(0, 3) },
    request: {
      headers: {
        'X-Forwarded-For': '192.0.2.1, 198.51.100.2, 203.0.113.1',
        'X-Forwarded-Proto': 'http',
        'X-Forwarded-Host': 'example.com',
      },
    },
    expected: {
      view: {
        clientAddress: '198.51.100.2',
        hostname: 'example.com',
        host: 'example.com',
        port: 80,
      },
    },
  },
  {
    name: 'X-Forwarded-Port beats the proto default and joins the host',
    options: { ...XFF_2, trustedProxyHeaders: ALL_X },
    request: {
      headers: {
        'X-Forwarded-For': '192.0.2.1, 198.51.100.2, 203.0.113.1',
        'X-Forwarded-Proto': 'http',
        'X-Forwarded-Host': 'example.com',
        'X-Forwarded-Port': '8080',
      },
    },
    expected: {
      view: { hostname: 'example.com', host: 'example.com:8080', port: 8080 },
    },
  },
  {
    name: 'two X-Forwarded-Host entries inside a window of two: the oldest wins',
    options: { ...XFF_2, trustedProxyHeaders: ALL_X },
    request: {
      headers: {
        'X-Forwarded-For': '192.0.2.1, 198.51.100.2, 203.0.113.1',
        'X-Forwarded-Proto': 'http',
        'X-Forwarded-Host': 'example.com, example.org',
        'X-Forwarded-Port': '8080',
      },
    },
    expected: {
      view: { clientAddress: '198.51.100.2', hostname: 'example.com', host: 'example.com:8080' },
      headers: { 'x-forwarded-host': 'example.com, example.org' },
    },
  },
  {
    name: 'two X-Forwarded-Host entries, window of one: the newest is the only trusted one',
    options: { trustedProxy: '*', trustedProxyCount: 1, trustedProxyHeaders: ALL_X },
    request: {
      headers: {
        'X-Forwarded-For': '192.0.2.1, 198.51.100.2, 203.0.113.1',
        'X-Forwarded-Proto': 'http',
        'X-Forwarded-Host': 'example.com, example.org',
        'X-Forwarded-Port': '8080',
      },
    },
    expected: {
      view: {
        clientAddress: '203.0.113.1',
        hostname: 'example.org',
        host: 'example.org:8080',
        port: 8080,
      },
      headers: { 'x-forwarded-for': '203.0.113.1', 'x-forwarded-host': 'example.org' },
    },
  },
  {
    name: 'Forwarded with for port, host port and proto',
    options: { trustedProxy: '*', trustedProxyHeaders: ['forwarded'] },
    request: { headers: { Forwarded: 'For=198.51.100.2:5858;host=example.com:8080;proto=https' } },
    expected: {
      view: {
        clientAddress: '198.51.100.2',
        clientPort: 5858,
        hostname: 'example.com',
        host: 'example.com:8080',
        port: 8080,
        scheme: 'https',
      },
    },
  },
  {
    name: 'Forwarded: an empty pair is skipped',
    options: { trustedProxy: '*', trustedProxyHeaders: ['forwarded'] },
    request: { headers: { Forwarded: 'For=198.51.100.2;;proto=https;by=_unused' } },
    expected: { view: { clientAddress: '198.51.100.2', scheme: 'https' } },
  },
  {
    name: 'Forwarded: whitespace around a token is malformed',
    options: { trustedProxy: '*', trustedProxyHeaders: ['forwarded'] },
    request: { headers: { Forwarded: 'For=198.51.100.2; proto =https' } },
    expected: { malformed: 'Forwarded' },
  },
  {
    name: 'Forwarded: whitespace around a value is malformed',
    options: { trustedProxy: '*', trustedProxyHeaders: ['forwarded'] },
    request: { headers: { Forwarded: 'For= "198.51.100.2"; proto =https' } },
    expected: { malformed: 'Forwarded' },
  },
  {
    name: 'Forwarded: a pair without "=" is malformed',
    options: { trustedProxy: '*', trustedProxyHeaders: ['forwarded'] },
    request: { headers: { Forwarded: 'For' } },
    expected: { malformed: 'Forwarded' },
  },
  {
    name: 'Forwarded: an unknown parameter is warned about and ignored',
    options: { trustedProxy: '*', trustedProxyHeaders: ['forwarded'] },
    request: {
      headers: { Forwarded: 'For=198.51.100.2;host=example.com:8080;proto=https;unknown="yolo"' },
    },
    expected: {
      view: { clientAddress: '198.51.100.2', host: 'example.com:8080', scheme: 'https' },
      warnings: 1,
    },
  },
  {
    name: 'trustedProxy without headers: only X-Forwarded-Proto is trusted',
    options: { trustedProxy: '*', trustedProxyCount: 1 },
    request: {
      headers: {
        ...HOST,
        'X-Forwarded-For': '198.51.100.2',
        Forwarded: 'For=198.51.100.2;host=example.com:8080;proto=https',
      },
    },
    expected: {
      view: {
        clientAddress: '127.0.0.1',
        host: '192.168.1.1:80',
        // waitress: SERVER_NAME "localhost", its configured server name.
        hostname: '192.168.1.1',
        port: 8080,
        scheme: 'http',
      },
      headers: { 'x-forwarded-for': undefined, forwarded: undefined },
      // the compile-time warning about the implicit X-Forwarded-Proto
      warnings: 1,
    },
  },
  {
    name: 'several X-Forwarded-Proto values are malformed',
    options: { trustedProxy: '*', trustedProxyHeaders: ['x-forwarded-proto'] },
    request: { headers: { 'X-Forwarded-Proto': 'http, https' } },
    expected: { malformed: 'X-Forwarded-Proto' },
  },
  {
    name: 'several X-Forwarded-Port values are malformed',
    options: { trustedProxy: '*', trustedProxyHeaders: ['x-forwarded-port'] },
    request: { headers: { 'X-Forwarded-Port': '443, 80' } },
    expected: { malformed: 'X-Forwarded-Port' },
  },
  {
    name: 'port 80 with proto https stays in the host',
    options: {
      trustedProxy: '*',
      trustedProxyHeaders: ['x-forwarded-port', 'x-forwarded-host', 'x-forwarded-proto'],
    },
    request: {
      headers: {
        'X-Forwarded-Port': '80',
        'X-Forwarded-Proto': 'https',
        'X-Forwarded-Host': 'example.com',
      },
    },
    expected: {
      view: { hostname: 'example.com', host: 'example.com:80', port: 80, scheme: 'https' },
    },
  },
  {
    name: 'port 443 with proto http stays in the host',
    options: {
      trustedProxy: '*',
      trustedProxyHeaders: ['x-forwarded-port', 'x-forwarded-host', 'x-forwarded-proto'],
    },
    request: {
      headers: {
        'X-Forwarded-Port': '443',
        'X-Forwarded-Proto': 'http',
        'X-Forwarded-Host': 'example.com',
      },
    },
    expected: {
      view: { hostname: 'example.com', host: 'example.com:443', port: 443, scheme: 'http' },
    },
  },
  {
    name: 'X-Forwarded-For with bad quoting is malformed',
    options: { trustedProxy: '*', trustedProxyHeaders: ['x-forwarded-for'] },
    request: { headers: { 'X-Forwarded-For': '"foo' } },
    expected: { malformed: 'X-Forwarded-For' },
  },
  {
    name: 'X-Forwarded-Host with bad quoting is malformed',
    options: { trustedProxy: '*', trustedProxyHeaders: ['x-forwarded-host'] },
    request: { headers: { 'X-Forwarded-Host': '"foo' } },
    expected: { malformed: 'X-Forwarded-Host' },
  },
];

describe('waitress tests/test_proxy_headers.py', () => {
  it.each(rows)('$name', ({ options, request, expected }) => {
    const outcome = runRequest(options, request);
    expectOutcome(outcome, expected);
  });
});
