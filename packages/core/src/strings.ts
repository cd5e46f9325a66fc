/**
 * Options from strings, as waitress reads its command line and ini files
 * (`trusted_proxy_headers = x-forwarded-for x-forwarded-proto`), and as a
 * twelve-factor app reads its environment (`WAITRESS_PROXY_TRUSTED_PROXY`).
 * The result goes to `compileOptions` (or an adapter) like any options
 * object, which validates what the strings could not.
 */
import { WaitressProxyConfigError } from './errors.js';
import type { WaitressProxyOptions } from './options.js';
import { splitList } from './trust.js';

type Reader = (key: string, value: string) => Partial<WaitressProxyOptions>;

/** waitress's snake_case names, and ours in the same style. */
const KEYS: Readonly<Record<string, Reader>> = {
  trusted_proxy: (_key, value) => ({ trustedProxy: splitList(value) }),
  trusted_proxy_count: (key, value) => ({ trustedProxyCount: count(key, value) }),
  trusted_proxy_headers: (_key, value) => ({ trustedProxyHeaders: splitList(value) }),
  clear_untrusted_proxy_headers: (key, value) => ({
    clearUntrustedProxyHeaders: asBool(key, value),
  }),
  log_untrusted_proxy_headers: (key, value) => ({ logUntrustedProxyHeaders: asBool(key, value) }),
  url_scheme: (key, value) => ({ urlScheme: scheme(key, value) }),
  url_prefix: (_key, value) => ({ urlPrefix: value }),
  require_trusted_hops: (key, value) => ({ requireTrustedHops: asBool(key, value) }),
  allowed_hosts: (_key, value) => ({ allowedHosts: splitList(value) }),
};

/** waitress's `asbool` (adjustments.py): these words, any case, and nothing else. */
const TRUE_WORDS = ['t', 'true', 'y', 'yes', 'on', '1'];
const FALSE_WORDS = ['f', 'false', 'n', 'no', 'off', '0'];

/**
 * Options from a record of strings keyed by waitress's names
 * (`trusted_proxy`, `trusted_proxy_count`, `trusted_proxy_headers`,
 * `clear_untrusted_proxy_headers`, `log_untrusted_proxy_headers`,
 * `url_scheme`, `url_prefix`) and ours in the same style
 * (`require_trusted_hops`, `allowed_hosts`). Booleans are waitress's
 * `asbool` words; lists are separated by spaces or commas;
 * `trusted_proxy_count` is an integer or `inf`. An unknown key or a bad value
 * throws a `WaitressProxyConfigError` naming both. Undefined values are
 * skipped, so a partial environment works.
 */
export function optionsFromStrings(
  record: Readonly<Record<string, string | undefined>>,
): WaitressProxyOptions {
  const options: WaitressProxyOptions = {};
  for (const [key, value] of Object.entries(record)) {
    if (value === undefined) continue;
    const reader = KEYS[key];
    if (reader === undefined) {
      const suggestion = Object.keys(KEYS).find(
        (name) => name.replace(/_/g, '') === key.toLowerCase().replace(/[-_]/g, ''),
      );
      throw new WaitressProxyConfigError(
        key,
        `unknown setting ${JSON.stringify(key)}` +
          (suggestion === undefined
            ? `. The settings are ${Object.keys(KEYS).join(', ')}.`
            : `. Did you mean ${JSON.stringify(suggestion)}?`),
      );
    }
    Object.assign(options, reader(key, value));
  }
  return options;
}

/**
 * Options from the environment: the same names upper-cased after `prefix`
 * (`WAITRESS_PROXY_TRUSTED_PROXY=10.0.0.5`). Variables that do not start
 * with the prefix are ignored; one that does but names no setting throws.
 */
export function optionsFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
  prefix = 'WAITRESS_PROXY_',
): WaitressProxyOptions {
  const record: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(prefix)) continue;
    const key = name.slice(prefix.length).toLowerCase();
    if (KEYS[key] === undefined) {
      throw new WaitressProxyConfigError(
        name,
        `unknown setting ${name}. The settings are ${Object.keys(KEYS)
          .map((known) => prefix + known.toUpperCase())
          .join(', ')}.`,
      );
    }
    record[key] = value;
  }
  return optionsFromStrings(record);
}

function asBool(key: string, value: string): boolean {
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.includes(word)) return true;
  if (FALSE_WORDS.includes(word)) return false;
  throw new WaitressProxyConfigError(
    key,
    `${key} must be a boolean (true/false, yes/no, on/off, 1/0), received ${JSON.stringify(value)}.`,
  );
}

function count(key: string, value: string): number {
  const text = value.trim();
  if (text.toLowerCase() === 'inf') return Infinity;
  if (/^[1-9][0-9]*$/.test(text)) return Number(text);
  throw new WaitressProxyConfigError(
    key,
    `${key} must be a positive integer or inf, received ${JSON.stringify(value)}.`,
  );
}

function scheme(key: string, value: string): 'http' | 'https' {
  const text = value.trim().toLowerCase();
  if (text === 'http' || text === 'https') return text;
  throw new WaitressProxyConfigError(
    key,
    `${key} must be http or https, received ${JSON.stringify(value)}.`,
  );
}
