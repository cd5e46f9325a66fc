import { applyHeaderChanges } from './headers.js';

describe('applyHeaderChanges', () => {
  it('sets, removes and appends in both headers and rawHeaders', () => {
    const message = {
      headers: {
        host: 'internal',
        'x-forwarded-for': '6.6.6.6, 192.0.2.1',
        'x-forwarded-proto': 'https',
      } as Record<string, string | string[] | undefined>,
      rawHeaders: [
        'Host',
        'internal',
        'X-Forwarded-For',
        '6.6.6.6',
        'x-forwarded-for',
        '192.0.2.1',
        'X-FORWARDED-PROTO',
        'https',
        'Accept',
        '*/*',
      ],
    };
    applyHeaderChanges(message, [
      { name: 'x-forwarded-for', value: '192.0.2.1' },
      { name: 'x-forwarded-proto', value: undefined },
      { name: 'host', value: 'example.com' },
      { name: 'x-forwarded-host', value: 'example.com' },
    ]);
    expect(message.headers).toEqual({
      host: 'example.com',
      'x-forwarded-for': '192.0.2.1',
      'x-forwarded-host': 'example.com',
    });
    expect(message.rawHeaders).toEqual([
      'Host',
      'example.com',
      'X-Forwarded-For',
      '192.0.2.1',
      'Accept',
      '*/*',
      'X-Forwarded-Host',
      'example.com',
    ]);
  });

  it('replaces values in place, matching names in any case and only whole names', () => {
    // `Date` has the length of `host`, `X-Forwarded-Hoss` that of
    // `x-forwarded-host` and all but its last letter: both stay as they are.
    const rawHeaders = [
      'Date',
      'today',
      'HOST',
      'internal',
      'X-Forwarded-Hoss',
      'x',
      'x-FORWARDED-host',
      'a',
    ];
    const message = { headers: { host: 'internal' }, rawHeaders };
    applyHeaderChanges(message, [
      { name: 'host', value: 'example.com' },
      { name: 'x-forwarded-host', value: 'example.com' },
    ]);
    expect(message.rawHeaders).toBe(rawHeaders);
    expect(rawHeaders).toEqual([
      'Date',
      'today',
      'HOST',
      'example.com',
      'X-Forwarded-Hoss',
      'x',
      'x-FORWARDED-host',
      'example.com',
    ]);
  });

  it('matches names written lower-case or canonical, as proxies write them', () => {
    const rawHeaders = ['Host', 'internal', 'x-forwarded-for', '10.0.0.1', 'X-Forwarded-Host', 'a'];
    const message = { headers: { host: 'internal' }, rawHeaders };
    applyHeaderChanges(message, [
      { name: 'host', value: 'example.com' },
      { name: 'x-forwarded-for', value: '192.0.2.1' },
      { name: 'x-forwarded-host', value: 'example.com' },
    ]);
    expect(rawHeaders).toEqual([
      'Host',
      'example.com',
      'x-forwarded-for',
      '192.0.2.1',
      'X-Forwarded-Host',
      'example.com',
    ]);
  });

  it('matches no line for a change name that is not lower-case, as the name says', () => {
    const rawHeaders = ['X-Forwarded-For', 'v1', 'HOST', 'a', 'host', 'b'];
    const message = { headers: {}, rawHeaders };
    applyHeaderChanges(message, [
      { name: 'X-Forwarded-For', value: 'c0' },
      { name: 'HOST', value: undefined },
    ]);
    expect(rawHeaders).toEqual([
      'X-Forwarded-For',
      'v1',
      'HOST',
      'a',
      'host',
      'b',
      'X-Forwarded-For',
      'c0',
    ]);
  });

  it('leaves the request alone when there is nothing to change', () => {
    const rawHeaders = ['Host', 'a'];
    const message = { headers: { host: 'a' }, rawHeaders };
    applyHeaderChanges(message, []);
    expect(message.rawHeaders).toBe(rawHeaders);
    expect(rawHeaders).toEqual(['Host', 'a']);
  });
});
