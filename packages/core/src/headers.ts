/**
 * Applies the engine's header changes to a Node request, in both views Node
 * keeps of the headers: the `headers` object and the flat `rawHeaders` list
 * (name, value, name, value, ...). Adapters call this; it knows nothing of
 * any framework.
 */
import type { HeaderChange } from './resolve.js';

/** The part of `http.IncomingMessage` that holds headers. */
export interface MutableHeaders {
  /** `req.headers`: lower-case names, repeated lines joined as Node joins them. */
  headers: Record<string, string | string[] | undefined>;
  /** `req.rawHeaders`: the lines as received, name, value, name, value... */
  rawHeaders: string[];
}

/**
 * Sets or removes each changed header. In `rawHeaders` a set header keeps the
 * place of its first line, its other lines are dropped, and a header that was
 * not there is appended; a removed header loses every line, whatever its case,
 * including lines past Node's header-count cap that `headers` never had.
 *
 * On a Node `IncomingMessage`, its lazily built views stay consistent:
 * `headersDistinct` is built from `rawHeaders` and a private line count, so
 * the count follows the lines removed and appended, and a view built before
 * the change is dropped to be built again.
 */
export function applyHeaderChanges(
  message: MutableHeaders,
  changes: readonly HeaderChange[],
): void {
  if (changes.length === 0) return;
  const { headers, rawHeaders } = message;
  // Node's count of the lines its views read (-1 without Node's slots); past
  // it (a request over the cap) rawHeaders may hold lines that `headers` does
  // not. Read once: a symbol read on Node's request costs a lookup each time.
  const count = nodeCountOf(message);
  const length = rawHeaders.length;
  const counted = count === -1 ? length : Math.min(count, length);
  let keptCounted = -1;
  for (const change of changes) {
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- removing a header by name is the point
    if (change.value === undefined) delete headers[change.name];
    else headers[change.name] = change.value;
  }

  // A handful of changes at most: linear scans beat building a Map per request.
  // Lines are moved only once a removed line has opened a gap, and the length
  // is set only when lines went: most requests only replace a value in place.
  let written = 0; // bit i: change i's value is in rawHeaders already
  let out = 0;
  for (let i = 0; i + 1 < length; i += 2) {
    if (i === counted) keptCounted = out;
    const name = rawHeaders[i] ?? '';
    const index = changeIndex(changes, name);
    if (index === -1) {
      if (out !== i) {
        rawHeaders[out] = name;
        rawHeaders[out + 1] = rawHeaders[i + 1] ?? '';
      }
      out += 2;
      continue;
    }
    const value = changes[index]?.value;
    if (value === undefined || (written & (1 << index)) !== 0) continue;
    written |= 1 << index;
    if (out !== i) rawHeaders[out] = name;
    rawHeaders[out + 1] = value;
    out += 2;
  }
  if (out !== rawHeaders.length) rawHeaders.length = out;
  for (let index = 0; index < changes.length; index++) {
    const change = changes[index];
    if (change?.value !== undefined && (written & (1 << index)) === 0) {
      rawHeaders.push(canonicalName(change.name), change.value);
    }
  }
  // Appended lines count only when every line did: an over-the-cap request
  // is only ever stripped, never given new lines.
  if (count !== -1 && nodeSlots !== undefined) {
    nodeSlots.update(message, keptCounted === -1 ? rawHeaders.length : keptCounted, count);
  }
}

/** Node's private slots on `IncomingMessage` that `headersDistinct` reads. */
interface NodeSlots {
  countOf(message: object): number;
  /** Sets the count to `lines` (when it was not `before`) and drops a distinct view built before. */
  update(message: object, lines: number, before: number): void;
}

/**
 * Node keeps them under module-private symbols (lib/_http_incoming.js:
 * `kHeadersCount`, `kHeadersDistinct`), found once by their descriptions,
 * the count on a request (it is set in the constructor), the distinct view
 * by running its getter on a bare object of the same prototype. Anything
 * else (HTTP/2's compatibility request, a plain object) has neither.
 */
let nodeSlots: NodeSlots | undefined;
const withoutSlots = new WeakSet();

/** Node's line count on `message`, or -1 when it has none (not Node's request). */
function nodeCountOf(message: object): number {
  if (nodeSlots !== undefined) return nodeSlots.countOf(message);
  const proto = Object.getPrototypeOf(message) as object | null;
  if (proto === null || withoutSlots.has(proto)) return -1;
  const found = findNodeSlots(message, proto);
  if (found === undefined) {
    withoutSlots.add(proto);
    return -1;
  }
  nodeSlots = found;
  return found.countOf(message);
}

function findNodeSlots(message: object, proto: object): NodeSlots | undefined {
  const count = ownSymbol(message, 'kHeadersCount');
  if (count === undefined) return undefined;
  let distinct: symbol | undefined;
  try {
    const probe = Object.create(proto) as object;
    Reflect.get(proto, 'headersDistinct', probe);
    distinct = ownSymbol(probe, 'kHeadersDistinct');
  } catch {
    // A Node without the getter: nothing to keep in step.
  }
  return {
    countOf(target) {
      const value = (target as Record<symbol, unknown>)[count];
      return typeof value === 'number' ? value : -1;
    },
    update(target, lines, before) {
      const fields = target as Record<symbol, unknown>;
      if (lines !== before) fields[count] = lines;
      if (distinct !== undefined && fields[distinct] != null) fields[distinct] = null;
    },
  };
}

function ownSymbol(object: object, description: string): symbol | undefined {
  return Object.getOwnPropertySymbols(object).find((symbol) => symbol.description === description);
}

/** The index of the last change to the header `name` (any case), or -1. */
function changeIndex(changes: readonly HeaderChange[], name: string): number {
  for (let i = changes.length - 1; i >= 0; i--) {
    if (sameName(changes[i]?.name ?? '', name)) return i;
  }
  return -1;
}

/**
 * Whether `name` is `lower` in any case, compared in place: a raw header
 * name is mostly a different length, and lower-casing it would allocate.
 */
function sameName(lower: string, name: string): boolean {
  if (lower.length !== name.length) return false;
  // A change name with an upper-case letter matches no line (the loop below
  // lower-cases only the line's name). Proxies write names lower-case
  // (HTTP/2, nginx's proxy_set_header as configured) or canonical (`Host`):
  // one comparison each, before the loop.
  const canonical = canonicalOf(lower);
  if (canonical === null) return false;
  if (name === lower || name === canonical) return true;
  for (let i = 0; i < name.length; i++) {
    let c = name.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20; // A-Z to a-z
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** `x-forwarded-host` → `X-Forwarded-Host`, for appended raw header lines. */
function canonicalName(name: string): string {
  return name.replace(
    /(^|-)([a-z])/g,
    (_match, dash: string, letter: string) => dash + letter.toUpperCase(),
  );
}

/**
 * The canonical form of a change name, or null when the name holds an
 * upper-case letter (it then matches no line); kept per name, since the
 * engine changes a fixed set of them.
 */
function canonicalOf(lower: string): string | null {
  let canonical = canonicalForms.get(lower);
  if (canonical === undefined) {
    canonical = /[A-Z]/.test(lower) ? null : canonicalName(lower);
    if (canonicalForms.size < 64) canonicalForms.set(lower, canonical);
  }
  return canonical;
}

const canonicalForms = new Map<string, string | null>();
