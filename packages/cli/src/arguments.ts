/**
 * The command line of `waitress-proxy explain`: the adapter options, in our
 * kebab-case, waitress's snake_case, or waitress-serve's spelling, and the
 * request to explain.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { optionsFromEnv } from '@waitress-proxy/core';
import type { RequestInput, WaitressProxyOptions } from '@waitress-proxy/core';
import { addHeaderLine, parseRequestHead } from './request-head.js';

/** The command's help text (`waitress-proxy --help`): every flag, with waitress's spellings. */
export const USAGE = `Usage: waitress-proxy explain [options]

Explains how waitress-proxy resolves one request: which trustedProxy entry
matched the peer, what became of each proxy header, where the client
address, scheme, host and port came from, and what to change.

Configuration (as the adapters take it; waitress's snake_case works too;
WAITRESS_PROXY_* environment variables, as optionsFromEnv reads them, are
the defaults):
  --trusted-proxy VALUE           an address, CIDR, loopback, localhost, '*';
                                  repeat or separate with commas/spaces
  --trusted-proxy-count N         a positive integer or Infinity
  --trusted-proxy-headers LIST    e.g. "x-forwarded-for x-forwarded-proto"
  --[no-]clear-untrusted-proxy-headers
  --url-scheme http|https
  --url-prefix PATH
  --require-trusted-hops

The request:
  --peer ADDRESS       the direct connection (req.socket.remoteAddress), or
                       "unix" for a Unix socket (required)
  --peer-port N        default 50000
  --local-port N       the app's listening port, default 8080
  --tls                the connection to the app is TLS
  -H, --header LINE    a header line, "Name: value"; repeat for more
  --url TARGET         the request target, default /
  --request FILE|-     a raw request head (as curl -v or a capture shows it)
                       instead of -H and --url; - reads standard input

Output:
  --json               the explanation as JSON
  -h, --help           this text

Exit status: 0 when the request resolves, 1 when the app would refuse it
(a 400 for a malformed header, 431 over the header-line cap), 2 for an
invalid configuration or command line (the message says what to change).`;

/** A mistake on the command line: exit status 2, with this message. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface ExplainCommand {
  readonly help: boolean;
  readonly json: boolean;
  readonly options: WaitressProxyOptions;
  readonly input: RequestInput;
}

/** waitress's snake_case and `--no-` spellings, mapped to ours. */
const SPELLINGS: Readonly<Record<string, string>> = {
  '--trusted_proxy': '--trusted-proxy',
  '--trusted_proxy_count': '--trusted-proxy-count',
  '--trusted_proxy_headers': '--trusted-proxy-headers',
  '--clear_untrusted_proxy_headers': '--clear-untrusted-proxy-headers',
  '--url_scheme': '--url-scheme',
  '--url_prefix': '--url-prefix',
  '--require_trusted_hops': '--require-trusted-hops',
};

function respell(arg: string): string {
  const equals = arg.indexOf('=');
  const name = equals === -1 ? arg : arg.slice(0, equals);
  const ours = SPELLINGS[name];
  return ours === undefined ? arg : ours + (equals === -1 ? '' : arg.slice(equals));
}

/**
 * Reads `argv` (without node and the script); `readInput` reads `--request -`.
 * `env` gives defaults for the configuration, as `optionsFromEnv` reads it
 * (`WAITRESS_PROXY_TRUSTED_PROXY=...`): what the app itself may read; flags
 * override it.
 */
export function parseCommand(
  argv: readonly string[],
  readInput: () => string,
  env: Readonly<Record<string, string | undefined>> = {},
): ExplainCommand {
  const [subcommand, ...rest] = argv;
  if (subcommand === '-h' || subcommand === '--help' || subcommand === undefined) {
    return { help: true, json: false, options: {}, input: emptyInput() };
  }
  if (subcommand !== 'explain') {
    throw new UsageError(
      `unknown command ${JSON.stringify(subcommand)}: the command is "explain".`,
    );
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest.map(respell),
      strict: true,
      allowPositionals: false,
      options: {
        'trusted-proxy': { type: 'string', multiple: true },
        'trusted-proxy-count': { type: 'string' },
        'trusted-proxy-headers': { type: 'string', multiple: true },
        'clear-untrusted-proxy-headers': { type: 'boolean' },
        'no-clear-untrusted-proxy-headers': { type: 'boolean' },
        'url-scheme': { type: 'string' },
        'url-prefix': { type: 'string' },
        'require-trusted-hops': { type: 'boolean' },
        peer: { type: 'string' },
        'peer-port': { type: 'string' },
        'local-port': { type: 'string' },
        tls: { type: 'boolean' },
        header: { type: 'string', short: 'H', multiple: true },
        url: { type: 'string' },
        request: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}. See waitress-proxy --help.`);
  }
  const values = parsed.values;
  if (values.help === true) return { help: true, json: false, options: {}, input: emptyInput() };

  const options: { -readonly [K in keyof WaitressProxyOptions]: WaitressProxyOptions[K] } = {
    ...optionsFromEnv(env),
  };
  if (values['trusted-proxy'] !== undefined) options.trustedProxy = values['trusted-proxy'];
  if (values['trusted-proxy-count'] !== undefined) {
    const text = values['trusted-proxy-count'];
    options.trustedProxyCount = text === 'Infinity' ? Infinity : Number(text);
    if (text.trim() === '') options.trustedProxyCount = Number.NaN;
  }
  if (values['trusted-proxy-headers'] !== undefined) {
    options.trustedProxyHeaders = values['trusted-proxy-headers'];
  }
  if (values['clear-untrusted-proxy-headers'] === true) options.clearUntrustedProxyHeaders = true;
  if (values['no-clear-untrusted-proxy-headers'] === true) {
    options.clearUntrustedProxyHeaders = false;
  }
  if (values['url-scheme'] !== undefined) {
    options.urlScheme = values['url-scheme'] as WaitressProxyOptions['urlScheme'];
  }
  if (values['url-prefix'] !== undefined) options.urlPrefix = values['url-prefix'];
  if (values['require-trusted-hops'] === true) options.requireTrustedHops = true;

  if (values.peer === undefined) {
    throw new UsageError(
      '--peer is required: the address your app sees as the direct connection ' +
        '(req.socket.remoteAddress, the proxy when there is one), or "unix" for a Unix socket.',
    );
  }
  let url = values.url ?? '/';
  let headers: Record<string, string> = {};
  if (values.request !== undefined) {
    if (values.header !== undefined || values.url !== undefined) {
      throw new UsageError('--request gives the headers and the target: leave out -H and --url.');
    }
    const text = values.request === '-' ? readInput() : readRequestFile(values.request);
    try {
      ({ url, headers } = parseRequestHead(text));
    } catch (error) {
      throw new UsageError(`--request: ${(error as Error).message}`);
    }
  } else {
    for (const line of values.header ?? []) {
      try {
        addHeaderLine(headers, line);
      } catch (error) {
        throw new UsageError(`-H: ${(error as Error).message}`);
      }
    }
  }
  return {
    help: false,
    json: values.json === true,
    options,
    input: {
      peerAddress: values.peer === 'unix' ? undefined : values.peer,
      peerPort: port('--peer-port', values['peer-port'], 50000),
      localPort: port('--local-port', values['local-port'], 8080),
      encrypted: values.tls === true,
      headers,
      url,
    },
  };
}

function readRequestFile(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch (error) {
    throw new UsageError(`--request: cannot read ${path}: ${(error as Error).message}`);
  }
}

function port(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^[0-9]+$/.test(text) || value < 1 || value > 65535) {
    throw new UsageError(`${flag} must be a port 1-65535, received ${JSON.stringify(text)}.`);
  }
  return value;
}

function emptyInput(): RequestInput {
  return {
    peerAddress: undefined,
    peerPort: undefined,
    localPort: undefined,
    encrypted: false,
    headers: {},
    url: '/',
  };
}
