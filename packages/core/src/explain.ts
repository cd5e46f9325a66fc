/**
 * Why the engine resolved a request as it did: the answer to "why is my IP
 * 127.0.0.1?". `explain` runs `resolve`'s own rules with a trace attached
 * (resolve.ts calls the hooks where each rule decides), so the explanation
 * cannot drift from what `resolve` does; this file only words the record.
 */
import { HostNotAllowedError, MalformedProxyHeaderError, TooManyHeadersError } from './errors.js';
import { windowOf } from './list.js';
import { PROXY_HEADER_NAMES, trustedHeadersConflict, trustedProxyOf } from './options.js';
import type { CompiledOptions, ProxyHeaderName } from './options.js';
import { DISPLAY_NAMES, resolveTraced } from './resolve.js';
import type {
  HeaderValue,
  RequestInput,
  Resolution,
  ResolveTrace,
  TracedField,
} from './resolve.js';
import { UNKNOWN_PEER, matchingEntry, trustedProxyAdvice } from './trust.js';

/** What became of one proxy header the request carried. */
export type HeaderOutcome =
  /** Read, and its trusted part used. */
  | 'used'
  /** The peer is not a trusted proxy: not read. */
  | 'peer-untrusted'
  /** Not in `trustedProxyHeaders`: not read. */
  | 'not-trusted'
  /** Trusted, but not read: no rule needed it (`x-forwarded-by`), or the request failed first. */
  | 'not-read'
  /** Trusted, read, and refused: the request's 400. */
  | 'malformed';

/** One proxy header of the request, and what the engine did with it. */
export interface HeaderStep {
  /** The header's usual spelling (`X-Forwarded-For`). */
  readonly header: string;
  /** Its value as received (repeated lines joined as Node joins them). */
  readonly value: string;
  /** What the engine did with it. */
  readonly outcome: HeaderOutcome;
  /** For a list header that was used: the trusted part, which the app keeps. */
  readonly window?: string;
  /** For a list header that was used: what lay left of the window, unread and cut away. */
  readonly cut?: string;
  /** For a malformed header: the rule it broke. */
  readonly reason?: string;
  /** Whether the header is removed from the request (`clearUntrustedProxyHeaders`). */
  readonly removed: boolean;
}

/** Where one field of the view came from. */
export interface FieldOrigin {
  /** The field's value in the view. */
  readonly value: string | number | undefined;
  /** A header's name, or `peer`, `Host`, `TLS`, `urlScheme`, `listening port`, `urlPrefix`. */
  readonly from: string;
  /** How, in words, when the name alone does not say. */
  readonly detail?: string;
}

/** The record of one resolution, as data. `formatExplanation` words it for a person. */
export interface Explanation {
  /** Exactly what `resolve` returns for the same arguments. */
  readonly resolution: Resolution;
  /** The direct connection, and whether and why it is a trusted proxy. */
  readonly peer: {
    /** `socket.remoteAddress` as Node reported it; undefined for a Unix socket. */
    readonly reported: string | undefined;
    /** As the engine compared it (`::ffff:10.0.0.5` → `10.0.0.5`, a zone dropped, `localhost`). */
    readonly compared: string;
    /** Whether it matched `trustedProxy`. */
    readonly trusted: boolean;
    /** The `trustedProxy` entry that matched it, as written (`'loopback'`, `'10.0.0.0/8'`). */
    readonly matchedBy: string | undefined;
  };
  /** Whether Node may have dropped header lines (a trusted peer's request is then refused). */
  readonly headersTruncated: boolean;
  /** Each proxy header the request carried, in `PROXY_HEADER_NAMES` order. */
  readonly headers: readonly HeaderStep[];
  /** Where the view's `clientAddress` came from. */
  readonly clientAddress: FieldOrigin;
  /** Where the view's `scheme` came from. */
  readonly scheme: FieldOrigin;
  /** Where the view's `host` came from. */
  readonly host: FieldOrigin;
  /** Where the view's `port` came from. */
  readonly port: FieldOrigin;
  /** Where the view's `prefix` came from. */
  readonly prefix: FieldOrigin;
  /** What the engine would have logged for this request. */
  readonly warnings: readonly string[];
  /** What to change, where the outcome looks like a misconfiguration. */
  readonly advice: readonly string[];
}

/**
 * Resolves `input` as `resolve` does (same arguments, same result in
 * `resolution`) and records why. Nothing is logged: the warnings are in the
 * explanation. Not for the hot path: it allocates a record per call.
 */
export function explain(options: CompiledOptions, input: RequestInput): Explanation {
  const reads = new Map<ProxyHeaderName, { value: string; start: number }>();
  const origins = new Map<TracedField, { from: string; detail: string | undefined }>();
  const trace: ResolveTrace = {
    read(header, value, start) {
      reads.set(header, { value, start });
    },
    from(field, header, detail) {
      origins.set(field, { from: header, detail });
    },
  };
  const warnings: string[] = [];
  const resolution = resolveTraced(
    options,
    input,
    {
      warn(message) {
        warnings.push(message);
      },
    },
    trace,
  );
  const view = resolution.view;
  const error = resolution.ok ? undefined : resolution.error;
  // A failed request gets the direct view: no header supplied any field.
  if (!resolution.ok) origins.clear();

  const headers: HeaderStep[] = [];
  const removedNames = new Set(
    resolution.headerChanges.filter((c) => c.value === undefined).map((c) => c.name),
  );
  for (const name of PROXY_HEADER_NAMES) {
    const value = joined(input.headers[name]);
    if (value === undefined) continue;
    const header = DISPLAY_NAMES[name];
    const removed = removedNames.has(name);
    const read = reads.get(name);
    if (!view.peerTrusted) {
      headers.push({ header, value, outcome: 'peer-untrusted', removed });
    } else if (!options.trustedHeaders.has(name)) {
      headers.push({ header, value, outcome: 'not-trusted', removed });
    } else if (error instanceof MalformedProxyHeaderError && error.header === header) {
      headers.push({ header, value, outcome: 'malformed', reason: error.reason, removed });
    } else if (read !== undefined && error === undefined) {
      const window = windowOf(read.value, read.start);
      const cut = withoutTrailingSeparators(read.value.slice(0, read.start));
      headers.push({
        header,
        value,
        outcome: 'used',
        ...(isList(name) ? { window } : {}),
        ...(cut === '' ? {} : { cut }),
        removed,
      });
    } else {
      headers.push({ header, value, outcome: 'not-read', removed });
    }
  }
  // A malformed value the Forwarded parser found in host or proto is reported
  // under Forwarded, which the loop above matched by name.

  const peer = {
    reported: input.peerAddress,
    compared: view.peerAddress,
    trusted: view.peerTrusted,
    matchedBy: view.peerTrusted
      ? matchingEntry(trustedProxyOf(options), view.peerAddress)
      : undefined,
  };

  const explanation: Omit<Explanation, 'advice'> = {
    resolution,
    peer,
    headersTruncated: input.headersTruncated === true,
    headers,
    clientAddress: origin(origins, 'clientAddress', view.clientAddress, {
      from: 'peer',
      detail: 'the direct connection',
    }),
    scheme: origin(origins, 'scheme', view.scheme, directScheme(options, input)),
    host: origin(origins, 'host', view.host, { from: 'Host', detail: 'the Host header' }),
    port: origin(origins, 'port', view.port, {
      from: 'listening port',
      detail: "the app's own port",
    }),
    prefix: origin(
      origins,
      'prefix',
      view.prefix,
      view.prefix === '' ? { from: 'urlPrefix', detail: 'none set' } : { from: 'urlPrefix' },
    ),
    warnings,
  };
  return { ...explanation, advice: adviceFor(options, explanation, error) };
}

function origin(
  origins: ReadonlyMap<TracedField, { from: string; detail: string | undefined }>,
  field: TracedField,
  value: string | number | undefined,
  direct: { from: string; detail?: string },
): FieldOrigin {
  const traced = origins.get(field);
  const from = traced ?? direct;
  return {
    value,
    from: from.from,
    ...(from.detail === undefined ? {} : { detail: from.detail }),
  };
}

function directScheme(
  options: CompiledOptions,
  input: RequestInput,
): { from: string; detail: string } {
  if (options.urlScheme !== undefined) return { from: 'urlScheme', detail: 'the option' };
  return input.encrypted
    ? { from: 'TLS', detail: 'the connection is TLS' }
    : { from: 'TLS', detail: 'the connection is not TLS' };
}

function isList(name: ProxyHeaderName): boolean {
  return name === 'x-forwarded-for' || name === 'x-forwarded-host' || name === 'forwarded';
}

function joined(value: HeaderValue): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

function adviceFor(
  options: CompiledOptions,
  explanation: Omit<Explanation, 'advice'>,
  error: unknown,
): string[] {
  const advice: string[] = [];
  const { peer, headers } = explanation;
  const sent = headers.map((step) => step.header);
  if (!peer.trusted && sent.length > 0 && peer.compared === UNKNOWN_PEER) {
    advice.push(
      `the connection closed before the request was resolved, so Node no longer reports its ` +
        `peer: it is "unknown" and its ${sent.join(', ')} were not used.`,
    );
  } else if (!peer.trusted && sent.length > 0) {
    advice.push(
      `${peer.compared} sent ${sent.join(', ')} but is not a trusted proxy; if it is your ` +
        `proxy, ${trustedProxyAdvice(peer.compared)}.`,
    );
  }
  if (error instanceof HostNotAllowedError) {
    advice.push(
      `the host ${JSON.stringify(clip(error.host ?? ''))} is not in allowedHosts; if the app serves it, ` +
        'add it (or its domain, as ".example.com") to allowedHosts.',
    );
  }
  if (error instanceof TooManyHeadersError) {
    advice.push(
      'the request has as many header lines as Node keeps (server.maxHeadersCount), so its proxy ' +
        'headers may have been dropped; raise server.maxHeadersCount if your proxies send that many.',
    );
  }
  for (const step of headers) {
    if (step.outcome === 'not-trusted') {
      const name = step.header.toLowerCase() as ProxyHeaderName;
      const conflict = trustedHeadersConflict(new Set([...options.trustedHeaders, name]));
      advice.push(
        conflict === undefined
          ? `${peer.compared} is trusted but ${step.header} is not in trustedProxyHeaders; if ` +
              `your proxy sets it on every request, add "${name}" to trustedProxyHeaders, ` +
              'otherwise remove it at the proxy.'
          : `${peer.compared} is trusted but ${step.header} is not in trustedProxyHeaders, and ` +
              'cannot be trusted together with ' +
              conflict.headers
                .filter((other) => other !== name)
                .map((other) => `"${other}"`)
                .join(', ') +
              `; if your proxy sets it instead of them, trust it in their place, otherwise ` +
              'remove it at the proxy.',
      );
    }
    if (step.outcome === 'malformed') {
      advice.push(
        `${step.header} from trusted proxy ${peer.compared} is malformed (${step.reason ?? ''}): ` +
          'the proxy must set it, not pass on what the client sent.',
      );
    }
  }
  if (peer.trusted && error === undefined) {
    for (const name of options.trustedHeaders) {
      if (name === 'x-forwarded-by') continue;
      const header = DISPLAY_NAMES[name];
      if (!sent.includes(header)) {
        advice.push(
          `${header} is in trustedProxyHeaders but trusted proxy ${peer.compared} did not send ` +
            'it; check that the proxy sets it.',
        );
      }
    }
  }
  return advice;
}

/** What one header step says, in words. */
function describeStep(step: HeaderStep): string {
  const head = `${step.header}: ${JSON.stringify(clip(step.value))}`;
  const removed = step.removed ? ', removed' : '';
  switch (step.outcome) {
    case 'used':
      return (
        `${head}: used` +
        (step.window === undefined ? '' : `, trusted part ${JSON.stringify(clip(step.window))}`) +
        (step.cut === undefined ? '' : `, cut away ${JSON.stringify(clip(step.cut))}`) +
        removed
      );
    case 'peer-untrusted':
      return `${head}: not read, the peer is not a trusted proxy${removed}`;
    case 'not-trusted':
      return `${head}: not read, not in trustedProxyHeaders${removed}`;
    case 'malformed':
      return `${head}: malformed, ${step.reason ?? ''}${removed}`;
    case 'not-read':
      return `${head}: trusted, not read${removed}`;
  }
}

function describeOrigin(field: string, origin: FieldOrigin): string {
  const value = origin.value === undefined ? '(none)' : clip(String(origin.value));
  return `${field} ${value} from ${origin.from}${origin.detail === undefined ? '' : ` (${origin.detail})`}`;
}

function clip(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}...` : text;
}

/**
 * The explanation for a person: a few lines, each decision with its reason,
 * then what to change where the outcome looks like a misconfiguration.
 */
export function formatExplanation(explanation: Explanation): string {
  const { peer, resolution } = explanation;
  const lines: string[] = [];
  const reported =
    peer.reported === undefined
      ? ' (a Unix socket: no address)'
      : peer.reported === peer.compared
        ? ''
        : ` (reported as ${peer.reported})`;
  lines.push(
    `peer ${peer.compared}${reported}: ` +
      (peer.trusted
        ? `trusted proxy${peer.matchedBy === undefined ? '' : `, matches trustedProxy entry ${peer.matchedBy}`}`
        : 'not a trusted proxy'),
  );
  if (explanation.headersTruncated) {
    lines.push(`header lines: as many as Node keeps (server.maxHeadersCount), some may be lost`);
  }
  for (const step of explanation.headers) lines.push(describeStep(step));
  if (explanation.headers.length === 0) lines.push('no proxy header in the request');
  if (!resolution.ok) {
    lines.push(`result: ${resolution.error.statusCode} ${resolution.error.message}`);
  }
  lines.push(describeOrigin('client', explanation.clientAddress));
  lines.push(describeOrigin('scheme', explanation.scheme));
  lines.push(describeOrigin('host', explanation.host));
  lines.push(describeOrigin('port', explanation.port));
  if (explanation.prefix.value !== '') lines.push(describeOrigin('prefix', explanation.prefix));
  for (const advice of explanation.advice) lines.push(`to change: ${advice}`);
  return lines.join('\n');
}

/**
 * `text` without the commas and white space at its end. A loop, not a
 * regular expression: `/[\s,]+$/` retries from every space of a long run,
 * quadratic on a header a client can fill with 16 KiB of spaces.
 */
function withoutTrailingSeparators(text: string): string {
  let end = text.length;
  while (end > 0) {
    const c = text.charCodeAt(end - 1);
    if (c !== 0x2c /* , */ && c !== 0x20 && c !== 0x09) break;
    end--;
  }
  return text.slice(0, end);
}
