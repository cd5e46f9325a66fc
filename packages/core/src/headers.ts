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
  let written = 0; // bit i: change i's value is in rawHeaders already
  let out = 0;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    const index = changeIndex(changes, name);
    if (index === -1) {
      rawHeaders[out++] = name;
      rawHeaders[out++] = rawHeaders[i + 1] ?? '';
      continue;
    }
    const value = changes[index]?.value;
    if (value === undefined || (written & (1 << index)) !== 0) continue;
    written |= 1 << index;
    rawHeaders[out++] = name;
    rawHeaders[out++] = value;
  }
  rawHeaders.length = out;
  changes.forEach((change, index) => {
    if (change.value !== undefined && (written & (1 << index)) === 0) {
      rawHeaders.push(canonicalName(change.name), change.value);
    }
  });
}

/**
 * The index of the last change to the header `name` (any case), or -1. The
 * name is lower-cased only when its length matches a changed one.
 */
function changeIndex(changes: readonly HeaderChange[], name: string): number {
  let lower: string | undefined;
  for (let i = changes.length - 1; i >= 0; i--) {
    const changed = changes[i]?.name ?? '';
    if (changed.length !== name.length) continue;
    lower ??= name.toLowerCase();
    if (changed === lower) return i;
  }
  return -1;
}

/** `x-forwarded-host` → `X-Forwarded-Host`, for appended raw header lines. */
function canonicalName(name: string): string {
  return name.replace(
    /(^|-)([a-z])/g,
    (_match, dash: string, letter: string) => dash + letter.toUpperCase(),
  );
}
