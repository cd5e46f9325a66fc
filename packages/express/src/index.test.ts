/**
 * The package surface. Behaviour over real sockets is in
 * test/conformance/express.test.ts.
 */
import * as core from '@waitress-proxy/core';
import waitressProxyDefault, {
  MalformedProxyHeaderError,
  TooManyHeadersError,
  TrustedRangesUnavailableError,
  WaitressProxyConfigError,
  waitressProxy,
} from './index.js';

describe('@waitress-proxy/express exports', () => {
  it('exports waitressProxy as a named and as the default export', () => {
    expect(waitressProxyDefault).toBe(waitressProxy);
  });

  it("re-exports the core's error classes, so instanceof works with either import", () => {
    expect(MalformedProxyHeaderError).toBe(core.MalformedProxyHeaderError);
    expect(WaitressProxyConfigError).toBe(core.WaitressProxyConfigError);
    expect(TooManyHeadersError).toBe(core.TooManyHeadersError);
    expect(TrustedRangesUnavailableError).toBe(core.TrustedRangesUnavailableError);
  });
});

describe('waitressProxy(options) at start-up', () => {
  it.each<[string, Parameters<typeof waitressProxy>[0], string]>([
    ['a count without trustedProxy', { trustedProxyCount: 2 }, 'trustedProxyCount'],
    [
      'an unknown header name',
      { trustedProxy: '10.0.0.5', trustedProxyHeaders: 'x-client-ip' },
      'trustedProxyHeaders',
    ],
    [
      'Forwarded mixed with X-Forwarded-*',
      { trustedProxy: '10.0.0.5', trustedProxyHeaders: 'forwarded x-forwarded-for' },
      'trustedProxyHeaders',
    ],
    ['a misspelled option', { trusted_proxy: '10.0.0.5' } as never, 'trusted_proxy'],
  ])('throws a WaitressProxyConfigError for %s, before any request', (_what, options, option) => {
    let thrown: unknown;
    try {
      waitressProxy(options);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(WaitressProxyConfigError);
    expect(thrown).toMatchObject({ code: 'WAITRESS_PROXY_INVALID_OPTION', option });
  });

  it('returns a three-argument middleware, which Express calls as a request handler', () => {
    const middleware = waitressProxy({
      trustedProxy: '10.0.0.5',
      trustedProxyHeaders: 'x-forwarded-for',
    });
    expect(middleware).toHaveLength(3);
  });
});
