import { DIAGNOSED_COMBINATIONS } from './diagnose.js';
import { compileOptions } from './options.js';
import type { WaitressProxyOptions } from './options.js';
import { resolve } from './resolve.js';
import type { RequestInput } from './resolve.js';
import { RecordingLogger } from './test-support.js';

function input(peerAddress: string | undefined, headers: Record<string, string>): RequestInput {
  return {
    peerAddress,
    peerPort: 50000,
    localPort: 8080,
    encrypted: false,
    headers: { host: 'app.internal', ...headers },
    url: '/',
  };
}

function setUp(options: WaitressProxyOptions) {
  const logger = new RecordingLogger();
  const compiled = compileOptions({ ...options, logger });
  logger.messages.length = 0; // start-up warnings are not the point here
  return { compiled, logger };
}

describe('the explain option', () => {
  it('logs the explanation through debug when the logger has it, and resolves as resolve does', () => {
    const debug: string[] = [];
    const logger = Object.assign(new RecordingLogger(), {
      debug: (message: string) => debug.push(message),
    });
    const options = { trustedProxy: '10.0.0.5', trustedProxyHeaders: 'x-forwarded-for' };
    const compiled = compileOptions({ ...options, explain: true, logger });
    const request = input('10.0.0.5', { 'x-forwarded-for': '203.0.113.7' });
    const result = resolve(compiled, request);
    expect(result).toEqual(resolve(compileOptions({ ...options, logger }), request));
    expect(debug).toEqual([
      [
        'waitress-proxy: peer 10.0.0.5: trusted proxy, matches trustedProxy entry "10.0.0.5"',
        '  X-Forwarded-For: "203.0.113.7": used, trusted part "203.0.113.7"',
        '  client 203.0.113.7 from X-Forwarded-For',
        '  scheme http from TLS (the connection is not TLS)',
        '  host app.internal from Host (the Host header)',
        "  port 8080 from listening port (the app's own port)",
      ].join('\n'),
    ]);
  });

  it('hands the explanation to a function, and still logs the warnings resolve would log', () => {
    const seen: unknown[] = [];
    const { compiled, logger } = setUp({
      trustedProxy: '10.0.0.5',
      trustedProxyHeaders: 'x-forwarded-proto',
      explain: (explanation) => seen.push(explanation.resolution.ok),
    });
    resolve(compiled, input('10.0.0.5', { 'x-forwarded-proto': 'ftp' }));
    expect(seen).toEqual([false]);
    expect(logger.messages).toEqual([
      'waitress-proxy: Malformed proxy header "X-Forwarded-Proto" from "10.0.0.5": ' +
        'not "http" or "https"; value: "ftp"',
    ]);
  });

  it('refuses a value that is neither a boolean nor a function', () => {
    expect(() => compileOptions({ explain: 'yes' as never })).toThrow(
      /explain must be true or false, received "yes"/,
    );
  });
});

describe('the diagnose option', () => {
  it('warns once about an untrusted loopback peer that sends proxy headers, naming the fix', () => {
    const { compiled, logger } = setUp({
      trustedProxy: '10.0.0.5',
      trustedProxyHeaders: 'x-forwarded-for',
      diagnose: true,
    });
    const request = input('127.0.0.1', { 'x-forwarded-for': '203.0.113.7' });
    resolve(compiled, request);
    resolve(compiled, request);
    expect(logger.messages).toEqual([
      'waitress-proxy: diagnose: 127.0.0.1 sent X-Forwarded-For but is not a trusted proxy; if ' +
        'it is your proxy, add "127.0.0.1" to trustedProxy.',
    ]);
  });

  it('stays quiet about a public client that forges headers: that is the attack, not a mistake', () => {
    const { compiled, logger } = setUp({
      trustedProxy: '10.0.0.5',
      trustedProxyHeaders: 'x-forwarded-for',
      diagnose: true,
    });
    resolve(compiled, input('198.51.100.9', { 'x-forwarded-for': '203.0.113.7' }));
    expect(logger.messages).toEqual([]);
  });

  it('warns about a trusted proxy that sends an untrusted header, and one that omits a trusted one', () => {
    const { compiled, logger } = setUp({
      trustedProxy: '10.0.0.5',
      trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-proto'],
      diagnose: true,
    });
    resolve(compiled, input('10.0.0.5', { 'x-forwarded-for': '203.0.113.7', forwarded: 'for=x' }));
    expect(logger.messages).toEqual([
      'waitress-proxy: diagnose: 10.0.0.5 is trusted but Forwarded is not in trustedProxyHeaders, ' +
        'and cannot be trusted together with "x-forwarded-for", "x-forwarded-proto"; if your proxy ' +
        'sets it instead of them, trust it in their place, otherwise remove it at the proxy.',
      'waitress-proxy: diagnose: X-Forwarded-Proto is in trustedProxyHeaders but trusted proxy ' +
        '10.0.0.5 did not send it; check that the proxy sets it.',
    ]);
  });

  it('warns when X-Forwarded-For has fewer entries than trustedProxyCount', () => {
    const { compiled, logger } = setUp({
      trustedProxy: '10.0.0.5',
      trustedProxyHeaders: 'x-forwarded-for',
      trustedProxyCount: 2,
      diagnose: true,
    });
    resolve(compiled, input('10.0.0.5', { 'x-forwarded-for': '203.0.113.7' }));
    expect(logger.messages).toEqual([
      'waitress-proxy: diagnose: X-Forwarded-For from 10.0.0.5 has 1 entry, fewer than ' +
        'trustedProxyCount 2: if one proxy appends to it, set trustedProxyCount to 1, or ' +
        'entries a client forged fall inside the window.',
    ]);
  });

  it(`remembers at most ${DIAGNOSED_COMBINATIONS} combinations, then goes silent`, () => {
    const { compiled, logger } = setUp({ trustedProxy: '10.0.0.5', diagnose: true });
    for (let i = 0; i < DIAGNOSED_COMBINATIONS + 50; i++) {
      resolve(compiled, input(`10.1.${i >> 8}.${i & 255}`, { 'x-forwarded-for': '203.0.113.7' }));
    }
    expect(logger.messages).toHaveLength(DIAGNOSED_COMBINATIONS);
  });
});
