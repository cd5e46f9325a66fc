import {
  isIPv4,
  isIPv6,
  isObfuscatedIdentifier,
  isPort,
  parseIPv4,
  peerAddressOf,
  unmapIPv4,
} from './address.js';
import { hostnameOf, parseHost } from './host.js';
import { ListReader, windowOf } from './list.js';
import { parseNode } from './node.js';
import { unquote } from './quoted-string.js';

describe('unquote (RFC 7230 quoted-string, as waitress undquote)', () => {
  it.each([
    ['plain value unchanged', 'example.com', 'example.com'],
    ['empty value', '', ''],
    ['quoted value', '"example.com"', 'example.com'],
    ['quoted-pair unescaped', '"a\\"b\\\\c"', 'a"b\\c'],
    ['empty quoted string', '""', ''],
    ['quote in the middle is not quoting', 'a"b', 'a"b'],
    ['quoted with spaces inside', '"a b"', 'a b'],
    ['obs-text allowed', '"caf\u00e9"', 'caf\u00e9'],
  ])('%s', (_name, input, expected) => {
    expect(unquote(input)).toBe(expected);
  });

  it.each([
    ['opening quote only', '"foo'],
    ['closing quote only', 'foo"'],
    ['a lone quote', '"'],
    ['an unescaped quote inside', '"a"b"'],
    ['a trailing backslash', '"a\\"'],
    ['a control character', '"a\u0001b"'],
    ['a character above obs-text', '"a\u0100"'],
  ])('refuses %s', (_name, input) => {
    expect(unquote(input)).toBeUndefined();
  });
});

describe('addresses', () => {
  it.each([
    ['192.0.2.1', true],
    ['0.0.0.0', true],
    ['255.255.255.255', true],
    ['256.0.0.1', false],
    ['010.0.0.1', false],
    ['127.1', false],
    ['0x7f.0.0.1', false],
    ['1.2.3.4.5', false],
    ['1.2.3.', false],
    ['.1.2.3', false],
    ['1..2.3', false],
    ['1.2.3.4 ', false],
  ])('isIPv4(%j) is %s', (text, expected) => {
    expect(isIPv4(text)).toBe(expected);
  });

  it('parses IPv4 to an unsigned 32-bit number', () => {
    expect(parseIPv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIPv4('10.0.0.1')).toBe(0x0a000001);
  });

  it.each([
    ['::1', true],
    ['2001:db8::1', true],
    ['::ffff:192.0.2.1', true],
    ['fe80::1%eth0', false],
    ['[::1]', false],
    ['2001:db8::1::2', false],
    ['1.2.3.4', false],
    [`${'1:'.repeat(30)}1`, false],
  ])('isIPv6(%j) is %s', (text, expected) => {
    expect(isIPv6(text)).toBe(expected);
  });

  it.each([
    ['::ffff:10.0.0.5', '10.0.0.5'],
    ['::ffff:not-an-ip', '::ffff:not-an-ip'],
    ['10.0.0.5', '10.0.0.5'],
    ['::1', '::1'],
  ])('unmapIPv4(%j) is %j', (text, expected) => {
    expect(unmapIPv4(text)).toBe(expected);
  });

  it.each([
    ['1', true],
    ['65535', true],
    ['0', false],
    ['65536', false],
    ['08080', false],
    ['-1', false],
    ['1e3', false],
    ['', false],
    ['123456', false],
    [' 80', false],
  ])('isPort(%j) is %s', (text, expected) => {
    expect(isPort(text)).toBe(expected);
  });

  it.each([
    ['_hidden', true],
    ['_a.b-c_9', true],
    ['_', false],
    ['hidden', false],
    ['_a b', false],
  ])('isObfuscatedIdentifier(%j) is %s', (text, expected) => {
    expect(isObfuscatedIdentifier(text)).toBe(expected);
  });
});

describe('peerAddressOf', () => {
  it('answers each peer for itself, whatever the peer before it', () => {
    // It keeps its last answer: alternating peers must not get each other's.
    const cases: [string, string][] = [
      ['::ffff:10.0.0.5', '10.0.0.5'],
      ['10.0.0.6', '10.0.0.6'],
      ['fe80::1%eth0', 'fe80::1'],
      ['::ffff:10.0.0.5', '10.0.0.5'],
      ['2001:db8::1', '2001:db8::1'],
    ];
    for (const [peer, expected] of [...cases, ...cases.reverse()]) {
      expect(peerAddressOf(peer)).toBe(expected);
      expect(peerAddressOf(peer)).toBe(expected);
    }
  });
});

describe('parseNode (RFC 7239 node)', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1', undefined],
    ['192.0.2.1:8080', '192.0.2.1', 8080],
    ['[2001:db8::1]', '2001:db8::1', undefined],
    ['[2001:db8::1]:8080', '2001:db8::1', 8080],
    ['2001:db8::1', '2001:db8::1', undefined],
    ['::ffff:192.0.2.1', '192.0.2.1', undefined],
    ['[::ffff:192.0.2.1]:1', '192.0.2.1', 1],
    ['2001:DB8:0:0::1', '2001:db8::1', undefined],
    ['[2001:0db8::0001]:80', '2001:db8::1', 80],
    ['::FFFF:192.0.2.1', '192.0.2.1', undefined],
    ['::192.0.2.1', '::c000:201', undefined],
    ['64:ff9b::192.0.2.1', '64:ff9b::c000:201', undefined],
    ['unknown', 'unknown', undefined],
    ['unknown:8080', 'unknown', 8080],
    ['_hidden', '_hidden', undefined],
    ['_hidden:_port', '_hidden', undefined],
  ])('%j is %j port %j', (text, address, port) => {
    expect(parseNode(text)).toEqual({ address, port });
  });

  it.each([
    '',
    'example.com',
    '[2001:db8::1',
    '[2001:db8::1]x',
    '[192.0.2.1]',
    '192.0.2.1:0',
    '192.0.2.1:65536',
    '192.0.2.1:',
    '[fe80::1%eth0]',
    '010.0.0.1',
    '127.1',
    'host:1:2',
  ])('refuses %j', (text) => {
    expect(parseNode(text)).toBeUndefined();
  });
});

describe('parseHost', () => {
  it.each([
    ['example.com', 'example.com', undefined],
    ['example.com:8080', 'example.com', 8080],
    ['EXAMPLE.com', 'EXAMPLE.com', undefined],
    ['192.0.2.1:80', '192.0.2.1', 80],
    ['[2001:db8::1]', '[2001:db8::1]', undefined],
    ['[2001:db8::1]:443', '[2001:db8::1]', 443],
    ['my_host.local', 'my_host.local', undefined],
  ])('%j is %j port %j', (text, hostname, port) => {
    expect(parseHost(text)).toEqual({ hostname, port });
  });

  it.each([
    '',
    'evil.com/x',
    'user@evil.com',
    'a b',
    'host:1:2',
    '[::1',
    '[::1]x',
    '[fe80::1%25eth0]',
    'example.com:0',
    'example.com:65536',
    'example.com:',
    ':80',
    'ex\u00e4mple.com',
    'example.com:08080',
  ])('refuses %j', (text) => {
    expect(parseHost(text)).toBeUndefined();
  });

  it.each([
    [undefined, undefined],
    ['', undefined],
    ['example.com', 'example.com'],
    ['example.com:3000', 'example.com'],
    ['[::1]:3000', '[::1]'],
    ['[::1]', '[::1]'],
  ])('hostnameOf(%j) is %j', (host, expected) => {
    expect(hostnameOf(host)).toBe(expected);
  });
});

/** The last `limit` elements as ListReader walks them, newest first. */
function lastElements(value: string, limit: number): { text: string; start: number }[] {
  const reader = new ListReader(value);
  const elements: { text: string; start: number }[] = [];
  while (elements.length < limit && reader.previous()) {
    elements.push({ text: reader.text, start: reader.start });
  }
  return elements;
}

describe('parseHost and hostnameOf keep their last answer', () => {
  it('answers each host for itself, whatever the host before it', () => {
    for (let round = 0; round < 2; round++) {
      expect(parseHost('a.example:8080')).toEqual({ hostname: 'a.example', port: 8080 });
      expect(parseHost('evil.example/x')).toBeUndefined();
      expect(parseHost('evil.example/x')).toBeUndefined();
      expect(parseHost('a.example')).toEqual({ hostname: 'a.example', port: undefined });
      expect(parseHost('a.example:0')).toBeUndefined();
      expect(hostnameOf('b.example:81')).toBe('b.example');
      expect(hostnameOf('[::1]:81')).toBe('[::1]');
      expect(hostnameOf('[::1]:81')).toBe('[::1]');
      expect(hostnameOf('b.example')).toBe('b.example');
    }
  });

  it('shares a frozen answer', () => {
    const parsed = parseHost('c.example:8443');
    expect(Object.isFrozen(parsed)).toBe(true);
    expect(parseHost('c.example:8443')).toBe(parsed);
  });
});

describe('ListReader and windowOf', () => {
  it('takes the last elements, newest first, with their offsets', () => {
    const value = 'a, b,c';
    expect(lastElements(value, 2)).toEqual([
      { text: 'c', start: 5 },
      { text: 'b', start: 2 },
    ]);
    expect(windowOf(value, 2)).toBe('b,c');
  });

  it('skips empty elements', () => {
    expect(lastElements('a,, ,b,', 5).map((element) => element.text)).toEqual(['b', 'a']);
  });

  it('reads nothing beyond the window', () => {
    const value = `${'x,'.repeat(10000)}y`;
    expect(lastElements(value, 1)).toEqual([{ text: 'y', start: value.length - 1 }]);
  });

  it('handles an empty value', () => {
    expect(lastElements('', 3)).toEqual([]);
  });

  it('takes everything with an infinite count', () => {
    expect(lastElements('a,b,c', Infinity)).toHaveLength(3);
  });

  it('stays at the end once the value is exhausted', () => {
    const reader = new ListReader(' ,a');
    expect(reader.previous()).toBe(true);
    expect(reader.previous()).toBe(false);
    expect(reader.previous()).toBe(false);
    expect(reader.text).toBe('a');
  });
});
