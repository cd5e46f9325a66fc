import { compileAllowedHosts } from './allowed-hosts.js';
import { HostNotAllowedError, WaitressProxyConfigError } from './errors.js';
import { compileOptions } from './options.js';
import { resolve } from './resolve.js';

const PATTERNS = [
  'example.com',
  '.example.org',
  '*.example.net',
  'api.example.io:8443',
  '192.0.2.1',
  '[2001:db8::1]:443',
];

describe('allowedHosts patterns', () => {
  const allowed = compileAllowedHosts(PATTERNS);
  it.each<[string, string | undefined, 'http' | 'https', boolean]>([
    ['an exact name', 'example.com', 'http', true],
    ['an exact name with any port', 'example.com:8080', 'http', true],
    ['mixed case', 'EXAMPLE.Com', 'http', true],
    ['a trailing dot', 'example.com.', 'http', true],
    ['a subdomain of an exact name', 'www.example.com', 'http', false],
    ['a name that only ends like it', 'evilexample.com', 'http', false],
    ['the name as a prefix of another domain', 'example.com.evil.com', 'http', false],
    ['another name', 'evil.com', 'http', false],
    ['.example.org: the domain itself', 'example.org', 'http', true],
    ['.example.org: a subdomain', 'a.b.example.org', 'http', true],
    ['.example.org: a look-alike', 'badexample.org', 'http', false],
    ['*.example.net: the domain itself is not a subdomain', 'example.net', 'http', false],
    ['*.example.net: a subdomain', 'www.example.net', 'http', true],
    ['a port pattern: the same port', 'api.example.io:8443', 'https', true],
    ['a port pattern: another port', 'api.example.io:8444', 'https', false],
    ['a port pattern: no port means the scheme default, 443', 'api.example.io', 'https', false],
    ['an IPv4 address', '192.0.2.1:8080', 'http', true],
    ['an IPv4 address is not matched by a domain pattern', '192.0.2.2', 'http', false],
    ['IPv6 on its port, implied by https', '[2001:db8::1]', 'https', true],
    ['IPv6 in another spelling', '[2001:DB8:0::1]:443', 'http', true],
    ['IPv6 on another port', '[2001:db8::1]:80', 'http', false],
    ['no host', undefined, 'http', false],
    ['an empty host', '', 'http', false],
    ['a host that is not one', 'example.com/evil', 'http', false],
    ['a host with a userinfo', 'user@example.com', 'http', false],
  ])('%s: %j over %s → %s', (_what, host, scheme, expected) => {
    expect(allowed?.(host, scheme)).toBe(expected);
  });

  it("'*' allows any valid host, but not a request without one", () => {
    const any = compileAllowedHosts('*');
    expect([any?.('whatever.example', 'http'), any?.(undefined, 'http')]).toEqual([true, false]);
  });

  it.each([
    ['a path', 'example.com/x'],
    ['an empty domain pattern', '.'],
    ['a wildcard in the middle', 'a.*.example.com'],
    ['a bad port', 'example.com:0'],
    ['a domain pattern on an IPv6 address', '.[::1]'],
  ])('refuses %s at start-up, naming the entry', (_what, pattern) => {
    expect(() => compileAllowedHosts([pattern])).toThrow(
      new RegExp(
        `invalid allowedHosts entry ${JSON.stringify(pattern).replace(/[.*[\]]/g, '\\$&')}`,
      ),
    );
  });

  it('refuses an empty list, which would refuse every request', () => {
    expect(() => compileAllowedHosts([])).toThrow(WaitressProxyConfigError);
  });
});

describe('allowedHosts in resolve', () => {
  const options = compileOptions({
    trustedProxy: '10.0.0.5',
    trustedProxyHeaders: ['x-forwarded-host', 'x-forwarded-for'],
    allowedHosts: ['.example.com'],
    logger: { warn: () => undefined },
  });
  const input = (peer: string, headers: Record<string, string>) => ({
    peerAddress: peer,
    peerPort: 1,
    localPort: 8080,
    encrypted: false,
    headers,
    url: '/',
  });

  it('checks the trusted forwarded host, not the proxy-facing Host', () => {
    const result = resolve(
      options,
      input('10.0.0.5', { host: 'app.internal', 'x-forwarded-host': 'shop.example.com' }),
    );
    expect(result).toMatchObject({ ok: true, view: { host: 'shop.example.com' } });
  });

  it('refuses a trusted forwarded host not in the list with a 400 naming it, the direct view and every proxy header removed', () => {
    const result = resolve(
      options,
      input('10.0.0.5', {
        host: 'shop.example.com',
        'x-forwarded-host': 'evil.com',
        'x-forwarded-for': '203.0.113.7',
      }),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(HostNotAllowedError);
    expect(result.error).toMatchObject({
      statusCode: 400,
      message: 'Host "evil.com" is not allowed.',
    });
    expect(result.view).toMatchObject({ clientAddress: '10.0.0.5', host: 'shop.example.com' });
    expect(result.headerChanges).toEqual(
      expect.arrayContaining([
        { name: 'x-forwarded-host', value: undefined },
        { name: 'x-forwarded-for', value: undefined },
      ]) as unknown,
    );
  });

  it('checks the Host of an untrusted peer, whose forwarded host is ignored', () => {
    const forged = resolve(
      options,
      input('198.51.100.9', { host: 'evil.com', 'x-forwarded-host': 'shop.example.com' }),
    );
    expect(forged).toMatchObject({
      ok: false,
      error: { message: 'Host "evil.com" is not allowed.' },
    });
  });

  it('refuses a request without a host, and checks HTTP/2 :authority', () => {
    expect(resolve(options, input('198.51.100.9', {}))).toMatchObject({
      ok: false,
      error: { message: 'A request without a host is not allowed.' },
    });
    expect(resolve(options, input('198.51.100.9', { ':authority': 'www.example.com' })).ok).toBe(
      true,
    );
  });
});

describe('the allowedHosts matcher keeps its last answer', () => {
  it('never gives one host or scheme the answer of another', () => {
    const allowed = compileAllowedHosts(['app.example:443', '.shop.example']);
    if (allowed === undefined) throw new Error('compiled nothing');
    const sequence: [string | undefined, 'http' | 'https', boolean][] = [
      ['app.example', 'https', true],
      ['app.example', 'https', true],
      ['app.example', 'http', false],
      ['app.example', 'https', true],
      ['evil.example', 'https', false],
      ['www.shop.example', 'http', true],
      ['www.shop.example.evil.example', 'http', false],
      [undefined, 'http', false],
      ['', 'http', false],
      ['www.shop.example', 'http', true],
    ];
    for (const [host, scheme, expected] of sequence) {
      expect([host, scheme, allowed(host, scheme)]).toEqual([host, scheme, expected]);
    }
  });
});
