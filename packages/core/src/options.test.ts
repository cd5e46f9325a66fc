import { WaitressProxyConfigError } from './errors.js';
import { compileOptions } from './options.js';
import type { WaitressProxyOptions } from './options.js';
import { RecordingLogger } from './test-support.js';

const startupErrors: [string, unknown, string, RegExp][] = [
  [
    'a count without trustedProxy',
    { trustedProxyCount: 2 },
    'trustedProxyCount',
    /trustedProxyCount has no meaning without trustedProxy\. Set trustedProxy/,
  ],
  [
    'headers without trustedProxy',
    { trustedProxyHeaders: ['x-forwarded-for'] },
    'trustedProxyHeaders',
    /trustedProxyHeaders has no meaning without trustedProxy/,
  ],
  [
    'an unknown header name',
    { trustedProxy: '10.0.0.5', trustedProxyHeaders: 'x-forwarded-for x-client-ip' },
    'trustedProxyHeaders',
    /unknown trustedProxyHeaders value "x-client-ip"\. Expected some of x-forwarded-for, /,
  ],
  [
    'two sources of the client address: x-forwarded-for and cf-connecting-ip',
    { trustedProxy: '10.0.0.5', trustedProxyHeaders: ['x-forwarded-for', 'cf-connecting-ip'] },
    'trustedProxyHeaders',
    /names 2 sources of the client address \(x-forwarded-for, cf-connecting-ip\): a client could choose which one the app reads\. Keep only the one your proxy sets/,
  ],
  [
    'two single client-IP headers',
    { trustedProxy: '10.0.0.5', trustedProxyHeaders: 'x-real-ip true-client-ip' },
    'trustedProxyHeaders',
    /names 2 sources of the client address \(x-real-ip, true-client-ip\)/,
  ],
  [
    'forwarded and a single client-IP header',
    { trustedProxy: '10.0.0.5', trustedProxyHeaders: ['forwarded', 'fastly-client-ip'] },
    'trustedProxyHeaders',
    /names 2 sources of the client address \(forwarded, fastly-client-ip\)/,
  ],
  [
    'a count above 1 with a single client-IP header and no list header',
    {
      trustedProxy: '10.0.0.5',
      trustedProxyHeaders: ['cf-connecting-ip', 'x-forwarded-proto'],
      trustedProxyCount: 2,
    },
    'trustedProxyCount',
    /trustedProxyCount counts the entries of list headers, and cf-connecting-ip holds one address/,
  ],
  [
    'forwarded together with x-forwarded-*',
    { trustedProxy: '10.0.0.5', trustedProxyHeaders: ['forwarded', 'x-forwarded-for'] },
    'trustedProxyHeaders',
    /mutually exclusive: trust either 'forwarded' alone/,
  ],
  [
    'a count of zero',
    { trustedProxy: '10.0.0.5', trustedProxyCount: 0 },
    'trustedProxyCount',
    /trustedProxyCount must be a positive integer or Infinity .* received number 0/,
  ],
  [
    'a fractional count',
    { trustedProxy: '10.0.0.5', trustedProxyCount: 1.5 },
    'trustedProxyCount',
    /positive integer/,
  ],
  [
    'a count given as a string',
    { trustedProxy: '10.0.0.5', trustedProxyCount: '2' },
    'trustedProxyCount',
    /received "2"/,
  ],
  [
    'an invalid trustedProxy address',
    { trustedProxy: '10.0.0.256' },
    'trustedProxy',
    /invalid trustedProxy entry "10\.0\.0\.256"\. Write an IP address/,
  ],
  [
    'a CIDR with too many bits',
    { trustedProxy: '10.0.0.0/33' },
    'trustedProxy',
    /invalid trustedProxy entry "10\.0\.0\.0\/33"/,
  ],
  [
    'a non-contiguous netmask',
    { trustedProxy: '10.0.0.0/255.0.255.0' },
    'trustedProxy',
    /invalid trustedProxy entry/,
  ],
  [
    'an IPv6 zone in trustedProxy',
    { trustedProxy: 'fe80::1%eth0' },
    'trustedProxy',
    /invalid trustedProxy entry "fe80::1%eth0"/,
  ],
  [
    'a trustedProxy of the wrong type',
    { trustedProxy: 10 },
    'trustedProxy',
    /trustedProxy must be a string, an array of strings, a range source or a function, received number 10/,
  ],
  [
    'a non-string trustedProxy entry',
    { trustedProxy: ['10.0.0.5', 7] },
    'trustedProxy',
    /trustedProxy entries must be strings/,
  ],
  [
    'a snake_case option',
    { trusted_proxy: '10.0.0.5' },
    'trusted_proxy',
    /received an unsupported option, `trusted_proxy`\. Did you mean `trustedProxy`\?/,
  ],
  ['an unknown option', { trustProxy: true }, 'trustProxy', /The options are trustedProxy, /],
  [
    'a urlScheme other than http or https',
    { urlScheme: 'ftp' },
    'urlScheme',
    /urlScheme must be 'http' or 'https', received "ftp"/,
  ],
  [
    'a urlPrefix with a query',
    { urlPrefix: '/app?x' },
    'urlPrefix',
    /urlPrefix must be a path such as '\/app'/,
  ],
  [
    'a boolean option given as a string',
    { clearUntrustedProxyHeaders: 'false' },
    'clearUntrustedProxyHeaders',
    /clearUntrustedProxyHeaders must be true or false, received "false"/,
  ],
  [
    'a logger without warn',
    { logger: { info: () => undefined } },
    'logger',
    /logger must be an object with a warn\(message\) method/,
  ],
  ['options that are not an object', 'trustedProxy', 'options', /options must be an object/],
];

describe('compileOptions', () => {
  it.each(startupErrors)('refuses %s', (_name, options, option, message) => {
    let error: unknown;
    try {
      compileOptions(options as WaitressProxyOptions);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(WaitressProxyConfigError);
    expect(error).toMatchObject({ option, code: 'WAITRESS_PROXY_INVALID_OPTION' });
    expect((error as Error).message).toMatch(/^waitress-proxy: /);
    expect((error as Error).message).toMatch(message);
  });

  it('trustedProxy without headers trusts x-forwarded-proto only and warns once', () => {
    const logger = new RecordingLogger();
    const compiled = compileOptions({ trustedProxy: '10.0.0.5', logger });
    expect([...compiled.trustedHeaders]).toEqual(['x-forwarded-proto']);
    expect(logger.messages).toHaveLength(1);
    expect(logger.messages[0]).toMatch(
      /only X-Forwarded-Proto is trusted\. Set trustedProxyHeaders/,
    );
  });

  it('applies waitress defaults', () => {
    const compiled = compileOptions({});
    expect(compiled).toMatchObject({
      trust: undefined,
      trustedProxyCount: 1,
      clearUntrustedProxyHeaders: true,
      logUntrustedProxyHeaders: false,
      urlScheme: undefined,
      urlPrefix: '',
      requireTrustedHops: false,
      logger: console,
    });
    expect(compiled.trustedHeaders.size).toBe(0);
  });

  it.each([
    ['a string with spaces', 'X-Forwarded-For x-forwarded-PROTO'],
    ['a string with commas', 'x-forwarded-for,x-forwarded-proto'],
    ['an array', ['x-forwarded-for', 'X-Forwarded-Proto']],
  ])('reads trustedProxyHeaders from %s, case-insensitively', (_name, headers) => {
    const compiled = compileOptions({ trustedProxy: '*', trustedProxyHeaders: headers });
    expect([...compiled.trustedHeaders].sort()).toEqual(['x-forwarded-for', 'x-forwarded-proto']);
  });

  it('accepts Infinity as a count', () => {
    const compiled = compileOptions({
      trustedProxy: '*',
      trustedProxyCount: Infinity,
      trustedProxyHeaders: 'x-forwarded-for',
    });
    expect(compiled.trustedProxyCount).toBe(Infinity);
  });

  it('treats an empty trustedProxy as none', () => {
    expect(compileOptions({ trustedProxy: '' }).trust).toBeUndefined();
    expect(compileOptions({ trustedProxy: [] }).trust).toBeUndefined();
  });

  it('returns frozen options', () => {
    expect(Object.isFrozen(compileOptions({}))).toBe(true);
  });
});
