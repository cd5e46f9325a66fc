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

  const pending = new Map<string, string | undefined>();
  for (const change of changes) pending.set(change.name, change.value);
  const written = new Set<string>();
  let out = 0;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    const lower = name.toLowerCase();
    if (!pending.has(lower)) {
      rawHeaders[out++] = name;
      rawHeaders[out++] = rawHeaders[i + 1] ?? '';
      continue;
    }
    const value = pending.get(lower);
    if (value === undefined || written.has(lower)) continue;
    written.add(lower);
    rawHeaders[out++] = name;
    rawHeaders[out++] = value;
  }
  rawHeaders.length = out;
  for (const [name, value] of pending) {
    if (value !== undefined && !written.has(name)) rawHeaders.push(canonicalName(name), value);
  }
}

/** `x-forwarded-host` → `X-Forwarded-Host`, for appended raw header lines. */
function canonicalName(name: string): string {
  return name.replace(
    /(^|-)([a-z])/g,
    (_match, dash: string, letter: string) => dash + letter.toUpperCase(),
  );
}
