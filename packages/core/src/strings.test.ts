import { WaitressProxyConfigError } from './errors.js';
import { compileOptions } from './options.js';
import { optionsFromEnv, optionsFromStrings } from './strings.js';

describe('optionsFromStrings', () => {
  it("reads waitress's names and ours, lists split on spaces and commas", () => {
    expect(
      optionsFromStrings({
        trusted_proxy: '10.0.0.5, 10.0.0.6',
        trusted_proxy_count: '2',
        trusted_proxy_headers: 'x-forwarded-for x-forwarded-proto',
        clear_untrusted_proxy_headers: 'Yes',
        log_untrusted_proxy_headers: 'off',
        url_scheme: 'HTTPS',
        url_prefix: '/app',
        require_trusted_hops: '1',
        allowed_hosts: '.example.com example.org:8443',
      }),
    ).toEqual({
      trustedProxy: ['10.0.0.5', '10.0.0.6'],
      trustedProxyCount: 2,
      trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-proto'],
      clearUntrustedProxyHeaders: true,
      logUntrustedProxyHeaders: false,
      urlScheme: 'https',
      urlPrefix: '/app',
      requireTrustedHops: true,
      allowedHosts: ['.example.com', 'example.org:8443'],
    });
  });

  it.each([
    ['true', true],
    ['T', true],
    ['y', true],
    ['ON', true],
    ['1', true],
    ['false', false],
    ['No', false],
    ['0', false],
  ])('reads the boolean %j as %s', (text, value) => {
    expect(optionsFromStrings({ require_trusted_hops: text })).toEqual({
      requireTrustedHops: value,
    });
  });

  it('reads inf as Infinity', () => {
    expect(optionsFromStrings({ trusted_proxy_count: 'inf' })).toEqual({
      trustedProxyCount: Infinity,
    });
  });

  it.each([
    [{ trusted_proxy_count: '0' }, 'trusted_proxy_count', /positive integer or inf, received "0"/],
    [{ trusted_proxy_count: '2.5' }, 'trusted_proxy_count', /received "2\.5"/],
    [
      { clear_untrusted_proxy_headers: 'maybe' },
      'clear_untrusted_proxy_headers',
      /must be a boolean .* received "maybe"/,
    ],
    [{ url_scheme: 'ftp' }, 'url_scheme', /must be http or https, received "ftp"/],
    [
      { trusted_proxies: 'x' },
      'trusted_proxies',
      /unknown setting "trusted_proxies"\. The settings are trusted_proxy, /,
    ],
    [
      { trustedProxy: 'x' },
      'trustedProxy',
      /unknown setting "trustedProxy"\. Did you mean "trusted_proxy"\?/,
    ],
  ])('throws for %j, naming the key and the value', (record, key, message) => {
    let thrown: unknown;
    try {
      optionsFromStrings(record);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(WaitressProxyConfigError);
    expect(thrown).toMatchObject({
      option: key,
      message: expect.stringMatching(message) as unknown,
    });
  });

  it('gives options that compile', () => {
    const compiled = compileOptions({
      ...optionsFromStrings({
        trusted_proxy: 'loopback',
        trusted_proxy_headers: 'x-forwarded-for',
      }),
      logger: { warn: () => undefined },
    });
    expect(compiled.trust?.('127.0.0.1')).toBe(true);
  });
});

describe('optionsFromEnv', () => {
  it('reads the prefixed variables, ignores the others', () => {
    expect(
      optionsFromEnv({
        WAITRESS_PROXY_TRUSTED_PROXY: '10.0.0.5',
        WAITRESS_PROXY_TRUSTED_PROXY_HEADERS: 'x-forwarded-for',
        PATH: '/usr/bin',
      }),
    ).toEqual({ trustedProxy: ['10.0.0.5'], trustedProxyHeaders: ['x-forwarded-for'] });
  });

  it('takes another prefix', () => {
    expect(optionsFromEnv({ APP_URL_PREFIX: '/app' }, 'APP_')).toEqual({ urlPrefix: '/app' });
  });

  it('throws for a prefixed variable that names no setting', () => {
    expect(() => optionsFromEnv({ WAITRESS_PROXY_TRUSTED: 'x' })).toThrow(
      /unknown setting WAITRESS_PROXY_TRUSTED\. The settings are WAITRESS_PROXY_TRUSTED_PROXY, /,
    );
  });
});
