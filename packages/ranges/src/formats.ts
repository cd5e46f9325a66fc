/**
 * The published formats, body in, candidate ranges out. Each parser only
 * extracts; `checkRanges` then decides whether the list can be trusted. A
 * body that is not in the expected shape throws, so an HTML error page or a
 * truncated JSON file is a failed load, never an empty or partial list.
 */
import { RangeLoadError, excerpt } from './errors.js';

/**
 * How a body becomes ranges: `'lines'` (one address or CIDR range a line;
 * blank lines and lines starting with `#` are skipped), or a function from
 * the body's text to the ranges (throw to refuse the body).
 */
export type ListFormat = 'lines' | ((body: string) => Iterable<string>);

/** One range a line, as Cloudflare's `ips-v4` and `ips-v6`; `#` starts a comment line. */
export function parseLines(body: string): string[] {
  const ranges: string[] = [];
  for (const line of body.split('\n')) {
    const text = line.trim();
    if (text === '' || text.startsWith('#')) continue;
    ranges.push(text);
  }
  return ranges;
}

/**
 * AWS's `ip-ranges.json`: the `ip_prefix` of each `prefixes` entry and the
 * `ipv6_prefix` of each `ipv6_prefixes` entry whose `service` is `service`
 * (https://docs.aws.amazon.com/vpc/latest/userguide/aws-ip-syntax.html).
 */
export function parseAwsIpRanges(body: string, service: string): string[] {
  const document = parseJsonObject(body, 'ip-ranges.json');
  const ranges: string[] = [];
  for (const [list, field] of [
    ['prefixes', 'ip_prefix'],
    ['ipv6_prefixes', 'ipv6_prefix'],
  ] as const) {
    for (const entry of arrayField(document, list, 'ip-ranges.json')) {
      if (typeof entry !== 'object' || entry === null) {
        throw malformed(`ip-ranges.json: an entry of "${list}" is not an object`);
      }
      const record = entry as Record<string, unknown>;
      if (record.service !== service) continue;
      const prefix = record[field];
      if (typeof prefix !== 'string') {
        throw malformed(`ip-ranges.json: a ${service} entry of "${list}" has no "${field}" string`);
      }
      ranges.push(prefix);
    }
  }
  return ranges;
}

/**
 * Fastly's `public-ip-list`: `addresses` (IPv4) and `ipv6_addresses`
 * (https://www.fastly.com/documentation/reference/api/utils/public-ip-list/).
 */
export function parseFastlyIpList(body: string): unknown[] {
  const document = parseJsonObject(body, 'public-ip-list');
  return [
    ...arrayField(document, 'addresses', 'public-ip-list'),
    ...arrayField(document, 'ipv6_addresses', 'public-ip-list'),
  ];
}

function parseJsonObject(body: string, what: string): Record<string, unknown> {
  let document: unknown;
  try {
    document = JSON.parse(body);
  } catch {
    throw malformed(`${what}: the body is not JSON (it starts ${excerpt(body.trimStart(), 40)})`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw malformed(`${what}: the body is not a JSON object`);
  }
  return document as Record<string, unknown>;
}

function arrayField(document: Record<string, unknown>, name: string, what: string): unknown[] {
  const value = document[name];
  if (!Array.isArray(value)) throw malformed(`${what}: "${name}" is not an array`);
  return value as unknown[];
}

function malformed(message: string): RangeLoadError {
  return new RangeLoadError(
    'WAITRESS_PROXY_RANGES_MALFORMED',
    `${message}; the whole list is refused.`,
  );
}
