/**
 * Reading a list's body, bounded: each load has a deadline, a size limit,
 * and follows a redirect only within the list's own origin. A list served
 * over plain HTTP from another host could be rewritten by anyone on the path,
 * so only HTTPS is accepted, except on loopback.
 */
import { constants } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { open } from 'node:fs/promises';
import { RangeLoadError, excerpt } from './errors.js';

/**
 * The `fetch` the sources call: the global one by default. Only the
 * members used here are required, so a wrapper or a test double fits.
 */
export type FetchFunction = (
  url: string,
  init: { signal: AbortSignal; redirect: 'manual'; headers: Record<string, string> },
) => Promise<Response>;

/**
 * The default `fetch`: a GET through node:http(s). With `unref`, its socket
 * is `unref()`'d, so a refresh in flight never keeps the process alive (the
 * global `fetch` holds a ref'd socket until the answer or the deadline);
 * the first load stays ref'd, as a script awaiting `ready()` needs.
 * Redirects are not followed here: `readUrl` follows them itself.
 */
export const nodeFetch =
  (unref: boolean): FetchFunction =>
  (url, init) =>
    new Promise<Response>((resolve, reject) => {
      const target = new URL(url);
      const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = request(
        target,
        { method: 'GET', headers: init.headers, signal: init.signal, agent: false },
        (res: IncomingMessage) => {
          try {
            const headers = new Headers();
            for (const [name, value] of Object.entries(res.headers)) {
              if (value !== undefined)
                headers.set(name, Array.isArray(value) ? value.join(', ') : value);
            }
            const status = res.statusCode ?? 0;
            // A Response cannot carry a body with these statuses.
            const empty = status === 204 || status === 205 || status === 304;
            if (empty) res.resume();
            const body = empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
            resolve(new Response(body, { status, headers }));
          } catch (error) {
            res.destroy();
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        },
      );
      if (unref) {
        req.on('socket', (socket) => {
          socket.unref();
        });
      }
      req.on('error', reject);
      req.end();
    });

/** What one load may take. */
export interface ReadLimits {
  /** ms before the load is abandoned, body included. */
  readonly timeout: number;
  /** The most bytes read from a body. */
  readonly maxBytes: number;
}

/** Redirects followed within the list's origin before the load fails. */
const MAX_REDIRECTS = 3;

/**
 * Throws a configuration error unless `url` is `https:`, or `http:` to a
 * loopback host (a list served on the same machine, as in tests).
 */
export function checkListUrl(url: string, describeOption: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`${describeOption}: ${excerpt(url)} is not a URL.`);
  }
  if (parsed.protocol === 'https:') return parsed;
  if (parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname)) return parsed;
  throw new TypeError(
    `${describeOption}: ${excerpt(url)} must be an https: URL (plain http: is accepted only on ` +
      `loopback): anyone on the path of a plain HTTP list could choose whom the app trusts. ` +
      `For a file on disk, use fromFile(path).`,
  );
}

function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** GETs `url` and returns its body as text, within `limits`; throws a `RangeLoadError` otherwise. */
export async function readUrl(
  url: string,
  fetchList: FetchFunction,
  limits: ReadLimits,
  signal: AbortSignal | undefined,
): Promise<string> {
  const { controller, aborted, end } = deadline(
    `no complete answer within ${limits.timeout} ms`,
    limits.timeout,
    signal,
  );
  // An injected fetch may ignore the signal: the deadline holds anyway.
  try {
    return await Promise.race([follow(url, fetchList, limits, controller.signal), aborted]);
  } catch (error) {
    if (error instanceof RangeLoadError) throw error;
    const reason: unknown = controller.signal.aborted ? controller.signal.reason : error;
    throw new RangeLoadError(
      'WAITRESS_PROXY_RANGES_FETCH_FAILED',
      `GET ${shortUrl(url)}: ${reason instanceof Error ? reason.message : String(reason)}`,
      { cause: reason },
    );
  } finally {
    end();
  }
}

async function follow(
  url: string,
  fetchList: FetchFunction,
  limits: ReadLimits,
  signal: AbortSignal,
): Promise<string> {
  const origin = new URL(url).origin;
  let current = url;
  for (let redirects = 0; ; redirects++) {
    const response = await fetchList(current, {
      signal,
      redirect: 'manual',
      headers: { accept: 'application/json, text/plain;q=0.9' },
    });
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      const location = response.headers.get('location');
      const next = location === null ? undefined : safeUrl(location, current);
      // Cloudflare once moved its lists from /ips-v4 to /ips-v4/ with a
      // 301: a move within the same origin is followed. A redirect to
      // another origin (a captive portal, a hijacked path) is a failed load.
      if (next?.origin !== origin || redirects >= MAX_REDIRECTS) {
        throw new RangeLoadError(
          'WAITRESS_PROXY_RANGES_FETCH_FAILED',
          `GET ${shortUrl(url)}: ${response.status} redirect ${
            next === undefined || next.origin === origin
              ? `not followed (${redirects >= MAX_REDIRECTS ? 'too many' : 'no valid Location'})`
              : `to another origin (${shortUrl(next.origin)}) refused`
          }`,
        );
      }
      current = next.href;
      continue;
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new RangeLoadError(
        'WAITRESS_PROXY_RANGES_FETCH_FAILED',
        `GET ${shortUrl(current)}: status ${response.status}`,
      );
    }
    return readBody(response, shortUrl(current), limits.maxBytes);
  }
}

/**
 * A URL as messages show it: whole when short, else cut and quoted, so a
 * redirect's 15 KB Location does not become a 15 KB log line.
 */
function shortUrl(url: string): string {
  return url.length > 200 ? excerpt(url, 200) : url;
}

function safeUrl(location: string, base: string): URL | undefined {
  try {
    return new URL(location, base);
  } catch {
    return undefined;
  }
}

async function readBody(response: Response, url: string, maxBytes: number): Promise<string> {
  const tooBig = () =>
    new RangeLoadError(
      'WAITRESS_PROXY_RANGES_REFUSED',
      `GET ${url}: the body is larger than ${maxBytes} bytes (maxBytes); not read further.`,
    );
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw tooBig();
  }
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooBig();
    }
    chunks.push(value);
  }
  return decode(Buffer.concat(chunks), url);
}

/**
 * Reads the regular file at `path`, at most `limits.maxBytes`, within
 * `limits.timeout` ms; throws a `RangeLoadError` otherwise. Anything else
 * (a FIFO, a device, a directory) is refused before it is read: a FIFO with
 * no writer would hold the load, and every later refresh, forever.
 */
export async function readFileBounded(
  path: string,
  limits: ReadLimits,
  signal: AbortSignal | undefined,
): Promise<string> {
  const { controller, aborted, end } = deadline(
    `not read within ${limits.timeout} ms`,
    limits.timeout,
    signal,
  );
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  const read = async (): Promise<string> => {
    // O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer,
    // in a thread of libuv's pool that no deadline can free.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const stat = await handle.stat();
    if (!stat.isFile()) {
      throw new RangeLoadError(
        'WAITRESS_PROXY_RANGES_FETCH_FAILED',
        `${path}: not a regular file; only a regular file is read.`,
      );
    }
    // One byte more than allowed tells a file at the limit from a larger one.
    const buffer = Buffer.alloc(limits.maxBytes + 1);
    let size = 0;
    while (size < buffer.length && !controller.signal.aborted) {
      const { bytesRead } = await handle.read(buffer, size, buffer.length - size, size);
      if (bytesRead === 0) break;
      size += bytesRead;
    }
    if (size > limits.maxBytes) {
      throw new RangeLoadError(
        'WAITRESS_PROXY_RANGES_REFUSED',
        `${path}: the file is larger than ${limits.maxBytes} bytes (maxBytes); not read further.`,
      );
    }
    return decode(buffer.subarray(0, size), path);
  };
  const reading = read();
  reading.catch(() => undefined);
  try {
    return await Promise.race([reading, aborted]);
  } catch (error) {
    if (error instanceof RangeLoadError) throw error;
    const reason: unknown = controller.signal.aborted ? controller.signal.reason : error;
    throw new RangeLoadError(
      'WAITRESS_PROXY_RANGES_FETCH_FAILED',
      `${path}: ${reason instanceof Error ? reason.message : String(reason)}`,
      { cause: reason },
    );
  } finally {
    end();
    // Closed once the read settles, even after the deadline.
    void reading.finally(() => handle?.close()).catch(() => undefined);
  }
}

/**
 * One load's deadline: a controller aborted after `timeout` ms (timer
 * unref'd) or when `signal` aborts, and a promise that rejects then, to race
 * against work that may ignore the signal. `end` clears both.
 */
function deadline(
  message: string,
  timeout: number,
  signal: AbortSignal | undefined,
): { controller: AbortController; aborted: Promise<never>; end: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(new Error(message));
  }, timeout);
  timer.unref();
  const onAbort = () => {
    controller.abort(signal?.reason);
  };
  if (signal?.aborted === true) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const aborted = new Promise<never>((_, reject) => {
    controller.signal.addEventListener(
      'abort',
      () => {
        reject(controller.signal.reason as Error);
      },
      { once: true },
    );
  });
  aborted.catch(() => undefined);
  return {
    controller,
    aborted,
    end: () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}

function decode(bytes: Uint8Array, where: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new RangeLoadError(
      'WAITRESS_PROXY_RANGES_MALFORMED',
      `${where}: the body is not UTF-8 text; the whole list is refused.`,
    );
  }
}
