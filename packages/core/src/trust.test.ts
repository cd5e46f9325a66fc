import { compileTrust } from './trust.js';

const cases: [string, string | string[], string, boolean][] = [
  ['exact IPv4', '10.0.0.5', '10.0.0.5', true],
  ['exact IPv4, other address', '10.0.0.5', '10.0.0.6', false],
  ['exact IPv4 matches its IPv4-mapped form', '10.0.0.5', '::ffff:10.0.0.5', true],
  ['IPv4-mapped entry matches the IPv4 address', '::ffff:10.0.0.5', '10.0.0.5', true],
  ['IPv4 /8', '10.0.0.0/8', '10.255.255.255', true],
  ['IPv4 /8 boundary', '10.0.0.0/8', '11.0.0.0', false],
  ['IPv4 /32', '10.0.0.5/32', '10.0.0.5', true],
  ['IPv4 /0 trusts every IPv4', '0.0.0.0/0', '203.0.113.1', true],
  ['IPv4 /0 does not trust IPv6', '0.0.0.0/0', '2001:db8::1', false],
  ['IPv4 range matches a mapped peer', '10.0.0.0/8', '::ffff:10.1.2.3', true],
  ['IPv6 range', '2001:db8::/32', '2001:db8:ffff::1', true],
  ['IPv6 range boundary', '2001:db8::/32', '2001:db9::1', false],
  ['IPv4-mapped IPv6 range is an IPv4 range', '::ffff:10.0.0.0/104', '10.9.9.9', true],
  ['loopback v4', 'loopback', '127.0.0.53', true],
  ['loopback v6', 'loopback', '::1', true],
  ['loopback is not a private address', 'loopback', '10.0.0.1', false],
  ['uniquelocal 172.16/12', 'uniquelocal', '172.31.255.255', true],
  ['uniquelocal boundary', 'uniquelocal', '172.32.0.0', false],
  ['uniquelocal 192.168/16', 'uniquelocal', '192.168.1.1', true],
  ['linklocal', 'linklocal', '169.254.1.1', true],
  ['names are case-insensitive', 'LoopBack', '127.0.0.1', true],
  ['a list', ['10.0.0.5', '2001:db8::1'], '2001:db8::1', true],
  ['non-canonical IPv6 input', '2001:db8::1', '2001:0DB8:0:0:0:0:0:1', true],
  ['header text that is not an address', '10.0.0.0/8', 'unknown', false],
  ['octal-looking IPv4 is not an address', '10.0.0.0/8', '010.0.0.1', false],
  ['short IPv4 is not an address', '127.0.0.0/8', '127.1', false],
  ['an IPv6 zone is not an address', 'fe80::/10', 'fe80::1%eth0', false],
  ['localhost names the Unix-socket peer', 'localhost', 'localhost', true],
  ['an IPv4-compatible address is not the IPv4 address', '10.0.0.0/8', '::10.0.0.1', false],
  ['an IPv4-compatible entry is not the IPv4 address', '::10.0.0.1', '10.0.0.1', false],
];

describe('compileTrust', () => {
  it.each(cases)('%s: %j trusts %s → %s', (_name, entries, address, expected) => {
    const trust = compileTrust(entries);
    expect(trust?.(address)).toBe(expected);
  });

  it('returns undefined when nothing is trusted', () => {
    expect(compileTrust(undefined)).toBeUndefined();
    expect(compileTrust(' , ')).toBeUndefined();
  });

  it('calls a function with the normalized address and only accepts true', () => {
    const seen: string[] = [];
    const trust = compileTrust((address: string) => {
      seen.push(address);
      return address === '10.0.0.5';
    });
    expect(trust?.('10.0.0.5')).toBe(true);
    expect(trust?.('10.0.0.6')).toBe(false);
    expect(seen).toEqual(['10.0.0.5', '10.0.0.6']);
    const truthy = compileTrust(() => 1 as unknown as boolean);
    expect(truthy?.('10.0.0.5')).toBe(false);
  });

  it("trusts everything with '*'", () => {
    expect(compileTrust('*')?.('203.0.113.9')).toBe(true);
  });
});

/** A source whose list the test changes, as a refresh would. */
function changingSource(initial: string[]) {
  let list = initial;
  let settle!: { resolve: () => void; reject: (error: Error) => void };
  const ready = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  return {
    source: {
      contains: (address: string) => list.includes(address),
      ready: () => ready,
    },
    set: (next: string[]) => {
      list = next;
    },
    settle,
  };
}

describe('range sources in trustedProxy', () => {
  it('a source alone is asked on every request, so a changed list applies at once', () => {
    const { source, set } = changingSource(['198.51.100.1']);
    const trust = compileTrust(source);
    expect(trust?.('198.51.100.1')).toBe(true);
    set(['198.51.100.2']);
    expect(trust?.('198.51.100.1')).toBe(false);
    expect(trust?.('198.51.100.2')).toBe(true);
  });

  it('a source beside fixed entries: either trusts', () => {
    const { source, set } = changingSource([]);
    const trust = compileTrust(['loopback', source]);
    expect(trust?.('127.0.0.1')).toBe(true);
    expect(trust?.('198.51.100.1')).toBe(false);
    set(['198.51.100.1']);
    expect(trust?.('198.51.100.1')).toBe(true);
    expect(trust?.('10.0.0.1')).toBe(false);
  });

  it('two sources: either trusts', () => {
    const a = changingSource(['198.51.100.1']);
    const b = changingSource(['198.51.100.2']);
    const trust = compileTrust([a.source, b.source]);
    expect([trust?.('198.51.100.1'), trust?.('198.51.100.2'), trust?.('198.51.100.3')]).toEqual([
      true,
      true,
      false,
    ]);
  });

  it('a source that answers a truthy non-boolean does not trust', () => {
    const trust = compileTrust({
      contains: () => 'yes' as unknown as boolean,
      ready: async () => {},
    });
    expect(trust?.('198.51.100.1')).toBe(false);
  });

  it('refuses an object that is not a source, naming what is expected', () => {
    expect(() => compileTrust([{ contains: () => true }])).toThrow(
      /trustedProxy entries must be strings or range sources, received an object/,
    );
  });
});
