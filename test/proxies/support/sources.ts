/**
 * Distinct loopback source addresses for the clients, so that "the app saw
 * the real client" is a check on a value no other hop has: the proxies and
 * the apps all use 127.0.0.1. Linux routes all of 127.0.0.0/8 to loopback.
 */
let next = 10;

export function nextClientAddress(): string {
  next = next >= 250 ? 10 : next + 1;
  return `127.0.0.${next}`;
}

/** Values a client forges; none is a real address or name (RFC 5737, RFC 2606). */
export const FORGED = {
  address: '203.0.113.66',
  host: 'evil.example',
  port: '4444',
} as const;

/** Every proxy header, forged. */
export const FORGED_HEADERS = {
  'x-forwarded-for': FORGED.address,
  'x-forwarded-host': FORGED.host,
  'x-forwarded-proto': 'http',
  'x-forwarded-port': FORGED.port,
  'x-forwarded-by': FORGED.address,
  forwarded: `for=${FORGED.address};host=${FORGED.host};proto=http`,
} as const;

/** The forged values that appear in `text`, if any. */
export function forgedValuesIn(text: string): string[] {
  return Object.values(FORGED).filter((value) =>
    new RegExp(`(^|[^0-9a-z.])${value.replace(/\./g, '\\.')}($|[^0-9a-z.])`, 'i').test(text),
  );
}

/**
 * Host values a client sends to break a proxy config that writes `$host`
 * into a structured header (issue 14 item 1): quotes, commas, semicolons,
 * `=`, spaces, a second port, and whole injected elements.
 */
export const HOSTILE_HOSTS = [
  'x",for=6.6.6.6;host="evil.com',
  'x",for="6.6.6.6',
  'x", for=6.6.6.6',
  'x;for=6.6.6.6',
  'x;host=evil.com',
  'x,for=6.6.6.6;host=evil.com;proto=https',
  'x=y',
  'x y',
  'localhost:1:2',
  'evil.com";proto="http',
  '"',
] as const;
