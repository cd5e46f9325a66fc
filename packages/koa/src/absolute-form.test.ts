/**
 * The absolute-form attack on Koa 2 and Koa 3, over real sockets: a client
 * sends `GET https://evil.example/x` (RFC 9112 3.2.2), and Koa's own `href`
 * returns that target as it came (and Koa 3's `URL` parses it), whatever
 * `ctx.protocol` and `ctx.host` say. After the middleware, `ctx.href`,
 * `ctx.URL` and Koa 2's `ctx.origin` name the view's scheme and host, and the
 * target counts only for its path and query, as the view's `path` does.
 */
import Koa from 'koa';
import type { Context } from 'koa';
import type { WaitressProxyOptions } from '@waitress-proxy/core';
import { waitressProxy } from './index.js';
import { KOA_VERSIONS, PROXY, STRANGER, quietLogger, send, start } from './test-support.js';

const X_FORWARDED = ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto'];
const TRUSTED = { trustedProxy: PROXY, trustedProxyHeaders: X_FORWARDED };
const FORWARDED = ['X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'example.com'];

/** The absolute URLs a handler reads, and what Koa's own getters make of the same request. */
interface Absolute {
  readonly href: string;
  readonly URL: string;
  readonly URLHost: string | undefined;
  readonly sameURL: boolean;
  readonly origin: string | null;
  readonly protocol: string;
  readonly host: string;
  readonly url: string;
  readonly koaHref: string;
  readonly koaURL: string | undefined;
}

/** Where the patched request prototype keeps Koa's own getters. */
const FALLBACKS = Symbol.for('@waitress-proxy/koa:fallbacks');

/**
 * Koa's own getter `name` (the middleware keeps it beside its own, on the
 * request prototype Koa ships), called on a throwaway object whose prototype
 * is `ctx.request`, so that Koa's `URL` memo lands there and not on the
 * request.
 */
function koaOwn(app: Koa, ctx: Context, name: 'href' | 'URL'): unknown {
  const table = (app.request as unknown as Record<symbol, Record<string, (r: object) => unknown>>)[
    FALLBACKS
  ];
  const own = table?.[name];
  if (own === undefined) throw new Error(`no fallback for ${name}: the middleware did not run`);
  return own(Object.create(ctx.request) as object);
}

function absolute(app: Koa, ctx: Context): Absolute {
  const koaURL = koaOwn(app, ctx, 'URL') as { href?: string };
  return {
    href: ctx.href,
    URL: ctx.URL.href,
    URLHost: ctx.URL.host,
    sameURL: ctx.URL === ctx.URL,
    origin: ctx.origin,
    protocol: ctx.protocol,
    host: ctx.host,
    url: ctx.url,
    koaHref: koaOwn(app, ctx, 'href') as string,
    koaURL: koaURL.href,
  };
}

describe.each(KOA_VERSIONS)('%s', (_name, KoaApp) => {
  const isKoa2 = KoaApp !== Koa;

  /** An app with the middleware first, answering with what the handler read. */
  async function exchange(
    options: WaitressProxyOptions,
    peer: string,
    target: string,
    rawHeaders: readonly string[] = [],
    early?: (ctx: Context) => void,
  ): Promise<Absolute> {
    const app = new KoaApp();
    if (early !== undefined) {
      app.use((ctx, next) => {
        early(ctx);
        return next();
      });
    }
    app.use(waitressProxy({ logger: quietLogger(), ...options }));
    app.use((ctx) => {
      ctx.body = absolute(app, ctx);
    });
    const running = await start(app);
    try {
      const { status, body } = await send(running.port, peer, target, rawHeaders);
      expect({ status, body: status === 200 ? '' : body }).toEqual({ status: 200, body: '' });
      return JSON.parse(body) as Absolute;
    } finally {
      await running.close();
    }
  }

  describe('an absolute-form target names neither the scheme nor the host', () => {
    it.each([
      {
        behaviour: 'an upper-case https target from any client',
        options: {},
        peer: STRANGER,
        target: 'HTTPS://evil.com/x',
        headers: [],
        origin: 'http://app.internal',
        href: 'http://app.internal/x',
      },
      {
        behaviour: 'a target with no path is the root',
        options: {},
        peer: STRANGER,
        target: 'http://evil.com',
        headers: [],
        origin: 'http://app.internal',
        href: 'http://app.internal/',
      },
      {
        behaviour: 'a target with a query and no path is the root with the query',
        options: {},
        peer: STRANGER,
        target: 'http://evil.com?q',
        headers: [],
        origin: 'http://app.internal',
        href: 'http://app.internal/?q',
      },
      {
        behaviour: 'a mixed-case scheme with a port',
        options: {},
        peer: STRANGER,
        target: 'hTtPs://Evil.COM:8443/a/b?c=d',
        headers: [],
        origin: 'http://app.internal',
        href: 'http://app.internal/a/b?c=d',
      },
      {
        behaviour: 'userinfo naming the real host before the evil one',
        options: {},
        peer: STRANGER,
        target: 'http://app.internal@evil.com/x',
        headers: [],
        origin: 'http://app.internal',
        href: 'http://app.internal/x',
      },
      {
        behaviour: 'a scheme Koa does not recognise is not glued onto the host',
        options: {},
        peer: STRANGER,
        target: 'ftp://evil.com/x',
        headers: [],
        origin: 'http://app.internal',
        href: 'http://app.internal/x',
      },
      {
        behaviour: 'an untrusted peer with forged X-Forwarded-Host and -Proto',
        options: TRUSTED,
        peer: STRANGER,
        target: 'https://evil.com/x',
        headers: ['X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'evil.example'],
        origin: 'http://app.internal',
        href: 'http://app.internal/x',
      },
      {
        behaviour: 'a trusted proxy: the forwarded scheme and host',
        options: TRUSTED,
        peer: PROXY,
        target: 'http://evil.com/x?y',
        headers: FORWARDED,
        origin: 'https://example.com',
        href: 'https://example.com/x?y',
      },
      {
        behaviour: 'a trusted proxy that forwards only the scheme: the Host header',
        options: TRUSTED,
        peer: PROXY,
        target: 'HTTP://evil.com/x',
        headers: ['X-Forwarded-Proto', 'https'],
        origin: 'https://app.internal',
        href: 'https://app.internal/x',
      },
    ])('$behaviour', async ({ options, peer, target, headers, origin, href }) => {
      const ctx = await exchange(options, peer, target, headers);
      const host = new URL(origin).host;
      expect(ctx).toMatchObject({
        protocol: origin.slice(0, origin.indexOf(':')),
        host,
        href,
        URL: href,
        URLHost: host,
        sameURL: true,
      });
      // Koa 3's `origin` is the Origin request header, none here.
      expect(ctx.origin).toBe(isKoa2 ? origin : null);
    });

    it.each([
      {
        behaviour: 'below urlPrefix: routed without the prefix, absolute with it',
        target: 'HTTPS://evil.com/api/users/7?x=1',
        url: '/users/7?x=1',
        href: 'https://example.com/api/users/7?x=1',
      },
      {
        behaviour: 'equal to urlPrefix: routed as the root, absolute as the prefix',
        target: 'http://evil.com/api',
        url: '/',
        href: 'https://example.com/api',
      },
    ])('$behaviour', async ({ target, url, href }) => {
      const ctx = await exchange({ ...TRUSTED, urlPrefix: '/api' }, PROXY, target, FORWARDED);
      expect(ctx).toMatchObject({ url, href, URL: href, URLHost: 'example.com' });
      expect(ctx.origin).toBe(isKoa2 ? 'https://example.com' : null);
    });

    it('a URL read before the middleware is replaced after it', async () => {
      const before: string[] = [];
      const ctx = await exchange(TRUSTED, PROXY, 'https://evil.com/x', FORWARDED, (early) => {
        before.push(early.href);
      });
      expect(before).toEqual(['https://evil.com/x']);
      expect(ctx).toMatchObject({ href: 'https://example.com/x', URL: 'https://example.com/x' });
    });
  });

  describe("an origin-form target gives what Koa's own getters give", () => {
    it.each([
      {
        behaviour: 'a path and query',
        target: '/a/b?c=d',
        headers: [],
        href: 'http://app.internal/a/b?c=d',
      },
      {
        behaviour: 'an absolute URL in the query is not the authority',
        target: '/login?next=http://evil.com/b',
        headers: [],
        href: 'http://app.internal/login?next=http://evil.com/b',
      },
      {
        behaviour: 'a path that looks like a scheme is kept',
        target: '/x://evil.com/y',
        headers: [],
        href: 'http://app.internal/x://evil.com/y',
      },
      {
        behaviour: 'forwarded scheme and host',
        target: '/a?b',
        headers: FORWARDED,
        href: 'https://example.com/a?b',
      },
    ])('$behaviour', async ({ target, headers, href }) => {
      const ctx = await exchange(TRUSTED, PROXY, target, headers);
      expect(ctx.href).toBe(href);
      expect(ctx.koaHref).toBe(href);
      expect(ctx.URL).toBe(ctx.koaURL);
      expect(ctx.sameURL).toBe(true);
    });
  });

  it("an empty Host: href as Koa builds it, but no URL, where Koa's takes the path's first segment as the host", async () => {
    const ctx = await exchange(TRUSTED, STRANGER, '/evil.com/x', ['Host', '']);
    expect({ href: ctx.href, koaHref: ctx.koaHref }).toEqual({
      href: 'http:///evil.com/x',
      koaHref: 'http:///evil.com/x',
    });
    expect(ctx.URLHost).toBeUndefined();
    expect(ctx.koaURL).toBe('http://evil.com/x');
  });

  it("a request that skips the middleware keeps Koa's own href and URL", async () => {
    const app = new KoaApp();
    const middleware = waitressProxy({ ...TRUSTED, logger: quietLogger() });
    app.use(async (ctx, next) => {
      if (ctx.path.endsWith('/raw')) await next();
      else await middleware(ctx, next);
    });
    app.use((ctx) => {
      ctx.body = { href: ctx.href, URL: ctx.URL.href };
    });
    const running = await start(app);
    try {
      const via = await send(running.port, STRANGER, 'HTTPS://evil.com/x');
      const raw = await send(running.port, STRANGER, 'HTTPS://evil.com/raw');
      expect(JSON.parse(via.body)).toEqual({
        href: 'http://app.internal/x',
        URL: 'http://app.internal/x',
      });
      expect(JSON.parse(raw.body)).toEqual({
        href: 'HTTPS://evil.com/raw',
        // Koa 2 glues the target onto its origin; Koa 3 parses it.
        URL: isKoa2 ? 'http://app.internalhttps//evil.com/raw' : 'https://evil.com/raw',
      });
    } finally {
      await running.close();
    }
  });
});
