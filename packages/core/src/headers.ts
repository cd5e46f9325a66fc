/**
 * Applies the engine's header changes to a Node request, in both views Node
 * keeps of the headers: the `headers` object and the flat `rawHeaders` list
 * (name, value, name, value, ...). Adapters call this; it knows nothing of
 * any framework.
 */
import type { HeaderChange } from './resolve.js';

/** The part of `http.IncomingMessage` that holds headers. */
export interface MutableHeaders {
  headers: Record<string, string | string[] | undefined>;
  rawHeaders: string[];
}

/**
 * Sets or removes each changed header. In `rawHeaders` a set header keeps the
 * place of its first line, its other lines are dropped, and a header that was
 * not there is appended; a removed header loses every line, whatever its case.
 */
export function applyHeaderChanges(
  message: MutableHeaders,
  changes: readonly HeaderChange[],
): void {
  if (changes.length === 0) return;
  const { headers, rawHeaders } = message;
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
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
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
