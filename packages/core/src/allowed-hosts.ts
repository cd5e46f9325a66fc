/**
 * `allowedHosts`: the hosts the app answers for, as Django's `ALLOWED_HOSTS`
 * and ASP.NET Core's `AllowedHosts` refuse Host-header poisoning (a forged
 * Host in a password-reset link or a cache key). Compiled once into a
 * matcher that keeps its last answer; per request, a compare with the last
 * host, else one parse of the effective host and a map lookup.
 *
 * Patterns: an exact name (case-insensitive, a trailing dot ignored);
 * `.example.com`, the domain and every subdomain (Django); `*.example.com`,
 * subdomains only (ASP.NET); an IPv4 address; a bracketed IPv6 address; each
 * with an optional `:port` (without one, any port matches); `*`, any host.
 */
import { canonicalIPv6, isIPv4 } from './address.js';
import { WaitressProxyConfigError } from './errors.js';
import { parseHost } from './host.js';
import { describe, splitList } from './trust.js';

/** Whether `host` (with its port, as the view has it) may be served over `scheme`. */
export type HostMatcher = (host: string | undefined, scheme: 'http' | 'https') => boolean;

/** Ports a name may be reached on: any, or these. */
type Ports = 'any' | Set<number>;

interface HostTable {
  readonly exact: Map<string, Ports>;
  /** `.example.com`: the name itself and every subdomain. */
  readonly domains: { suffix: string; ports: Ports }[];
  /** `*.example.com`: subdomains only. */
  readonly subdomains: { suffix: string; ports: Ports }[];
  any: Ports | undefined;
}

/** Compiles `allowedHosts`; undefined when the option is absent. */
export function compileAllowedHosts(allowedHosts: unknown): HostMatcher | undefined {
  if (allowedHosts === undefined) return undefined;
  let patterns: string[];
  if (typeof allowedHosts === 'string') patterns = splitList(allowedHosts);
  else if (Array.isArray(allowedHosts) && allowedHosts.every((p) => typeof p === 'string')) {
    patterns = allowedHosts.flatMap(splitList);
  } else {
    throw new WaitressProxyConfigError(
      'allowedHosts',
      `allowedHosts must be an array of host patterns such as ['example.com', '.example.com'], ` +
        `received ${describe(allowedHosts)}.`,
    );
  }
  if (patterns.length === 0) {
    throw new WaitressProxyConfigError(
      'allowedHosts',
      'allowedHosts is empty, which would refuse every request: list the hosts the app ' +
        "serves (['example.com']), or leave the option out.",
    );
  }
  const table: HostTable = { exact: new Map(), domains: [], subdomains: [], any: undefined };
  for (const pattern of patterns) addPattern(table, pattern);
  return matcherFor(table);
}

function addPattern(table: HostTable, pattern: string): void {
  if (pattern === '*') {
    table.any = 'any';
    return;
  }
  let kind: 'exact' | 'domain' | 'subdomain' = 'exact';
  let rest = pattern;
  if (rest.startsWith('*.')) {
    kind = 'subdomain';
    rest = rest.slice(2);
  } else if (rest.startsWith('.')) {
    kind = 'domain';
    rest = rest.slice(1);
  }
  const parsed = parseHost(rest);
  const name = parsed === undefined ? undefined : normalizeName(parsed.hostname);
  if (parsed === undefined || name === undefined || (kind !== 'exact' && name.startsWith('['))) {
    throw new WaitressProxyConfigError(
      'allowedHosts',
      `invalid allowedHosts entry ${JSON.stringify(pattern)}. Write a host name ('example.com'), ` +
        `'.example.com' (the domain and its subdomains), '*.example.com' (subdomains only), an ` +
        `IPv4 address, a bracketed IPv6 address ('[::1]'), each with an optional ':port', or '*'.`,
    );
  }
  const port = parsed.port;
  if (kind === 'exact') {
    table.exact.set(name, addPort(table.exact.get(name), port));
  } else {
    const list = kind === 'domain' ? table.domains : table.subdomains;
    const existing = list.find((entry) => entry.suffix === name);
    if (existing === undefined) list.push({ suffix: name, ports: addPort(undefined, port) });
    else existing.ports = addPort(existing.ports, port);
  }
}

function addPort(ports: Ports | undefined, port: number | undefined): Ports {
  if (port === undefined || ports === 'any') return 'any';
  const set = ports ?? new Set<number>();
  set.add(port);
  return set;
}

/**
 * A host name as compared: lower case, one trailing dot dropped (`example.com.`
 * is `example.com` in DNS), IPv6 in brackets in RFC 5952 form. Undefined
 * when nothing is left.
 */
function normalizeName(hostname: string): string | undefined {
  if (hostname.startsWith('[')) return `[${canonicalIPv6(hostname.slice(1, -1))}]`;
  const lower = hostname.toLowerCase();
  const name = lower.endsWith('.') ? lower.slice(0, -1) : lower;
  if (name === '' || name.startsWith('.') || name.includes('..')) return undefined;
  return name;
}

function portMatches(ports: Ports, port: number): boolean {
  return ports === 'any' || ports.has(port);
}

/**
 * The matcher, which keeps its last answer: an app serves one host, or a
 * few, so most requests repeat the last one, and a string compare is all
 * they cost. A client that alternates hosts only pays the full match.
 */
function matcherFor(table: HostTable): HostMatcher {
  const match = fullMatcherFor(table);
  let lastHost = '';
  let lastScheme = '';
  let lastAnswer = false;
  return (host, scheme) => {
    if (host === undefined) return false;
    if (host === lastHost && scheme === lastScheme) return lastAnswer;
    const answer = match(host, scheme);
    lastHost = host;
    lastScheme = scheme;
    lastAnswer = answer;
    return answer;
  };
}

function fullMatcherFor(table: HostTable): HostMatcher {
  const { exact, domains, subdomains, any } = table;
  return (host, scheme) => {
    if (host === undefined || host === '') return false;
    const parsed = parseHost(host);
    if (parsed === undefined) return false;
    const name = normalizeName(parsed.hostname);
    if (name === undefined) return false;
    const port = parsed.port ?? (scheme === 'https' ? 443 : 80);
    if (any !== undefined) return true;
    const ports = exact.get(name);
    if (ports !== undefined && portMatches(ports, port)) return true;
    // IP addresses are never matched by domain patterns.
    if (name.startsWith('[') || isIPv4(name)) return false;
    for (const entry of domains) {
      if (inDomain(name, entry.suffix, true) && portMatches(entry.ports, port)) return true;
    }
    for (const entry of subdomains) {
      if (inDomain(name, entry.suffix, false) && portMatches(entry.ports, port)) return true;
    }
    return false;
  };
}

/** `name` is `suffix` (when `orSelf`) or ends with `.suffix`. */
function inDomain(name: string, suffix: string, orSelf: boolean): boolean {
  if (name === suffix) return orSelf;
  return (
    name.length > suffix.length + 1 &&
    name.endsWith(suffix) &&
    name.charCodeAt(name.length - suffix.length - 1) === 0x2e /* . */
  );
}
