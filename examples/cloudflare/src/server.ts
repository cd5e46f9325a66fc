/**
 * Starts the example: `pnpm start`, configured by environment variables.
 *
 * - HOST, PORT: where to listen (default 127.0.0.1:3000);
 * - CLOUDFLARE_URLS: the lists to read, separated by spaces (default
 *   Cloudflare's own https://www.cloudflare.com/ips-v4 and ips-v6);
 * - REFRESH_INTERVAL: ms between refreshes (default one hour).
 */
import { cloudflare } from '@waitress-proxy/ranges';
import { createApp } from './app.js';

const env = process.env;
const host = env.HOST ?? '127.0.0.1';
const port = Number(env.PORT ?? 3000);

const shutdown = new AbortController();
const ranges = cloudflare({
  ...(env.CLOUDFLARE_URLS === undefined ? {} : { urls: env.CLOUDFLARE_URLS.split(/\s+/) }),
  ...(env.REFRESH_INTERVAL === undefined ? {} : { refreshInterval: Number(env.REFRESH_INTERVAL) }),
  signal: shutdown.signal,
});

const server = createApp(ranges).listen(port, host, () => {
  console.log(`listening on http://${host}:${port}`);
});
ranges.ready().then(
  () => {
    console.log(`Cloudflare's ranges loaded: ${ranges.ranges().join(' ')}`);
  },
  (error: unknown) => {
    console.error(`Cloudflare's ranges could not be loaded; answering 503: ${String(error)}`);
  },
);

process.once('SIGINT', () => {
  shutdown.abort();
  server.close();
});
