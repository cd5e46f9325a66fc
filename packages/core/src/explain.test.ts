import { explain, formatExplanation } from './explain.js';
import { compileOptions } from './options.js';
import type { WaitressProxyOptions } from './options.js';
import type { RequestInput } from './resolve.js';

const silent = { warn: () => undefined };

function input(
  peerAddress: string | undefined,
  headers: Record<string, string>,
  extra: Partial<RequestInput> = {},
): RequestInput {
  return {
    peerAddress,
    peerPort: 50000,
    localPort: 8080,
    encrypted: false,
    headers: { host: 'app.internal:8080', ...headers },
    url: '/',
    ...extra,
  };
}

function run(options: WaitressProxyOptions, request: RequestInput) {
  const explanation = explain(compileOptions({ logger: silent, ...options }), request);
  return { explanation, text: formatExplanation(explanation) };
}

describe('explain', () => {
  it('why is my IP 127.0.0.1: nginx on a Unix socket is "localhost", not 127.0.0.1', () => {
    const { explanation, text } = run(
      { trustedProxy: '127.0.0.1', trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-proto'] },
      input(undefined, { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' }),
    );
    expect(explanation.peer).toEqual({
      reported: undefined,
      compared: 'localhost',
      trusted: false,
      matchedBy: undefined,
    });
    expect(text).toBe(
      [
        'peer localhost (a Unix socket: no address): not a trusted proxy',
        'X-Forwarded-For: "203.0.113.7": not read, the peer is not a trusted proxy, removed',
        'X-Forwarded-Proto: "https": not read, the peer is not a trusted proxy, removed',
        'client localhost from peer (the direct connection)',
        'scheme http from TLS (the connection is not TLS)',
        'host app.internal:8080 from Host (the Host header)',
        "port 8080 from listening port (the app's own port)",
        'to change: localhost sent X-Forwarded-For, X-Forwarded-Proto but is not a trusted proxy; ' +
          'if it is your proxy, add "unix" to trustedProxy (a Unix-socket peer has no ' +
          'address: "127.0.0.1" and "loopback" do not match it).',
      ].join('\n'),
    );
  });

  it('names the entry that matched, the window, what was cut, and where each field came from', () => {
    const { explanation, text } = run(
      {
        trustedProxy: ['10.0.0.0/8', 'loopback'],
        trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'],
      },
      input('::ffff:127.0.0.1', {
        'x-forwarded-for': '6.6.6.6, 203.0.113.7',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'shop.example',
        forwarded: 'for=6.6.6.6',
      }),
    );
    expect(explanation.peer).toMatchObject({ compared: '127.0.0.1', matchedBy: '"loopback"' });
    expect(explanation.headers).toEqual([
      {
        header: 'X-Forwarded-For',
        value: '6.6.6.6, 203.0.113.7',
        outcome: 'used',
        window: '203.0.113.7',
        cut: '6.6.6.6',
        removed: false,
      },
      {
        header: 'X-Forwarded-Host',
        value: 'shop.example',
        outcome: 'used',
        window: 'shop.example',
        removed: false,
      },
      { header: 'X-Forwarded-Proto', value: 'https', outcome: 'used', removed: false },
      { header: 'Forwarded', value: 'for=6.6.6.6', outcome: 'not-trusted', removed: true },
    ]);
    expect(text).toBe(
      [
        'peer 127.0.0.1 (reported as ::ffff:127.0.0.1): trusted proxy, matches trustedProxy entry "loopback"',
        'X-Forwarded-For: "6.6.6.6, 203.0.113.7": used, trusted part "203.0.113.7", cut away "6.6.6.6"',
        'X-Forwarded-Host: "shop.example": used, trusted part "shop.example"',
        'X-Forwarded-Proto: "https": used',
        'Forwarded: "for=6.6.6.6": not read, not in trustedProxyHeaders, removed',
        'client 203.0.113.7 from X-Forwarded-For',
        'scheme https from X-Forwarded-Proto',
        'host shop.example from X-Forwarded-Host',
        'port 443 from X-Forwarded-Proto (the default port of https)',
        'to change: 127.0.0.1 is trusted but Forwarded is not in trustedProxyHeaders, and cannot ' +
          'be trusted together with "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"; ' +
          'if your proxy sets it instead of them, trust it in their place, otherwise remove it ' +
          'at the proxy.',
      ].join('\n'),
    );
  });

  it('a malformed header: the rule it broke, the 400, and the direct view', () => {
    const { explanation, text } = run(
      { trustedProxy: '10.0.0.5', trustedProxyHeaders: ['x-forwarded-proto', 'x-forwarded-for'] },
      input('10.0.0.5', { 'x-forwarded-proto': 'ftp', 'x-forwarded-for': '203.0.113.7' }),
    );
    expect(explanation.resolution.ok).toBe(false);
    expect(explanation.headers).toEqual([
      { header: 'X-Forwarded-For', value: '203.0.113.7', outcome: 'not-read', removed: true },
      {
        header: 'X-Forwarded-Proto',
        value: 'ftp',
        outcome: 'malformed',
        reason: 'not "http" or "https"',
        removed: true,
      },
    ]);
    expect(explanation.clientAddress).toEqual({
      value: '10.0.0.5',
      from: 'peer',
      detail: 'the direct connection',
    });
    expect(explanation.warnings).toHaveLength(1);
    expect(text).toContain('result: 400 Header "X-Forwarded-Proto" malformed.');
    expect(text).toContain(
      'to change: X-Forwarded-Proto from trusted proxy 10.0.0.5 is malformed (not "http" or "https")',
    );
  });

  it('a port given inside the forwarded host, and a trusted header the proxy did not send', () => {
    const { explanation } = run(
      {
        trustedProxy: '10.0.0.5',
        trustedProxyHeaders: ['x-forwarded-host', 'x-forwarded-port', 'x-forwarded-proto'],
      },
      input('10.0.0.5', { 'x-forwarded-host': 'shop.example:8443', 'x-forwarded-port': '443' }),
    );
    expect(explanation.port).toEqual({
      value: 8443,
      from: 'X-Forwarded-Host',
      detail: 'the port in the forwarded host',
    });
    expect(explanation.advice).toEqual([
      'X-Forwarded-Proto is in trustedProxyHeaders but trusted proxy 10.0.0.5 did not send it; ' +
        'check that the proxy sets it.',
    ]);
  });

  it('a request over the header-line cap: nothing read, and what to change', () => {
    const { explanation } = run(
      { trustedProxy: '10.0.0.5', trustedProxyHeaders: ['x-forwarded-for'] },
      input('10.0.0.5', { 'x-forwarded-for': '203.0.113.7' }, { headersTruncated: true }),
    );
    expect(explanation).toMatchObject({
      headersTruncated: true,
      headers: [{ header: 'X-Forwarded-For', outcome: 'not-read', removed: true }],
    });
    expect(explanation.advice).toEqual([
      expect.stringContaining('raise server.maxHeadersCount') as unknown,
    ]);
  });

  it('names a range source or a trust function as the entry that matched', () => {
    const source = { contains: () => true, ready: () => Promise.resolve() };
    expect(
      run({ trustedProxy: ['10.0.0.5', source] }, input('192.0.2.1', {})).explanation.peer,
    ).toMatchObject({ trusted: true, matchedBy: 'a range source' });
    expect(
      run({ trustedProxy: () => true }, input('192.0.2.1', {})).explanation.peer,
    ).toMatchObject({ trusted: true, matchedBy: 'the trust function' });
  });

  it.each([
    [
      'a second source of the client address',
      { trustedProxyHeaders: ['x-forwarded-for'] },
      { 'x-forwarded-for': '203.0.113.7', 'x-real-ip': '203.0.113.7' },
      'X-Real-IP',
    ],
    [
      'an X-Forwarded-* header beside a trusted Forwarded',
      { trustedProxyHeaders: ['forwarded'] },
      { forwarded: 'for=203.0.113.7', 'x-forwarded-port': '443' },
      'X-Forwarded-Port',
    ],
  ] as const)(
    'never advises adding a header that cannot be trusted with the others: %s',
    (_what, options, headers, header) => {
      const { explanation } = run(
        { trustedProxy: '10.0.0.5', ...options },
        input('10.0.0.5', headers),
      );
      const advice = explanation.advice.filter((line) => line.includes(`but ${header} is not`));
      expect(advice).toHaveLength(1);
      expect(advice[0]).toContain('cannot be trusted together with');
      expect(advice[0]).not.toContain(`add "${header.toLowerCase()}"`);
      // The advice is right: adding it would not start.
      expect(() =>
        compileOptions({
          trustedProxy: '10.0.0.5',
          trustedProxyHeaders: [...options.trustedProxyHeaders, header.toLowerCase()],
        }),
      ).toThrow(/mutually exclusive|sources of the client address/);
    },
  );

  it('advises adding a header that can be trusted with the others', () => {
    const { explanation } = run(
      { trustedProxy: '10.0.0.5', trustedProxyHeaders: ['x-forwarded-for'] },
      input('10.0.0.5', { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' }),
    );
    expect(explanation.advice).toContain(
      '10.0.0.5 is trusted but X-Forwarded-Proto is not in trustedProxyHeaders; if your proxy ' +
        'sets it on every request, add "x-forwarded-proto" to trustedProxyHeaders, otherwise ' +
        'remove it at the proxy.',
    );
  });
});
