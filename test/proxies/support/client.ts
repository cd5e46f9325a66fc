/**
 * Waiting for the proxies; the client itself is the demo's, so the suite
 * requests exactly as the demo does.
 */
export { request, SERVER_NAME } from '../../../examples/demo/src/client.js';
export type { Reply, RequestSpec } from '../../../examples/demo/src/client.js';

/** Retries `probe` until it resolves, or rejects with its last error after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T>,
  timeoutMs = 15_000,
  onFailure?: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      return await probe();
    } catch (error) {
      last = error;
      await new Promise((done) => setTimeout(done, 100));
    }
  }
  const detail = onFailure?.() ?? '';
  throw new Error(`${what} did not become ready: ${String(last)}${detail ? `\n${detail}` : ''}`);
}
