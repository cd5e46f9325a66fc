/**
 * Starts the example: `pnpm start`, configured by environment variables.
 *
 * - HOST, PORT: where to listen (default 127.0.0.1:3000, so only a proxy on
 *   this machine can reach it);
 * - TRUSTED_PROXY: the proxy's address(es) (default `loopback`);
 * - TRUSTED_PROXY_HEADERS: the headers it sets (default the four X-Forwarded-*);
 * - TRUSTED_PROXY_COUNT: how many proxies are in the chain (default 1);
 * - URL_PREFIX: the path the app is served under, if any.
 */
import { createApp } from './app.js';

const env = process.env;
const host = env.HOST ?? '127.0.0.1';
const port = Number(env.PORT ?? 3000);

const app = await createApp({
  trustedProxy: env.TRUSTED_PROXY ?? 'loopback',
  trustedProxyHeaders:
    env.TRUSTED_PROXY_HEADERS ??
    'x-forwarded-for x-forwarded-host x-forwarded-proto x-forwarded-port',
  trustedProxyCount: env.TRUSTED_PROXY_COUNT === undefined ? 1 : Number(env.TRUSTED_PROXY_COUNT),
  urlPrefix: env.URL_PREFIX,
});

await app.listen({ port, host });
