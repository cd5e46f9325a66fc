/**
 * `urlPrefix` in Express: the prefix becomes part of `req.baseUrl`
 * (waitress's SCRIPT_NAME) in the app and in every Router or sub-app mounted
 * after the middleware, while the routers match on the path without it
 * (PATH_INFO).
 *
 * Assigning `req.baseUrl` once is not enough. Express's router (Express 4's
 * `lib/router/index.js`, Express 5's `router` package) reads `req.baseUrl`
 * when a request enters it, keeps it as `parentUrl`, and from then on writes
 * `parentUrl` or `parentUrl + mountPath` into `req.baseUrl`. The app's own
 * router entered before this middleware ran, so its `parentUrl` lacks the
 * prefix: a Router mounted at `/api` would see `/api`, not `/foo/api`.
 *
 * So `req.baseUrl` becomes an accessor that adds the prefix to what that one
 * router writes. It recognizes that router's writes by `req.next`: every
 * router sets `req.next` to its own `next` on entry and restores `baseUrl`
 * before `next` on exit, so a write made while `req.next` is the `next` this
 * middleware was called with comes from the router that was entered without
 * the prefix. Nested routers read the prefixed value, so their writes are
 * stored unchanged.
 */

/** The part of Express's request this file reads and writes. */
export interface RoutedRequest {
  baseUrl?: unknown;
  next?: unknown;
}

/**
 * Makes `req.baseUrl` carry the prefix for the rest of the request.
 *
 * @param outer the part of the prefix that stands before everything the app
 *   sees: a trusted `X-Forwarded-Prefix`, which the proxy stripped before the
 *   app (and any sub-app it mounted) saw the path.
 * @param inner the part stripped here: `urlPrefix`, which follows the path
 *   of the router the middleware is a layer of.
 * @param ownerNext the `next` this middleware received: the `next` of the
 *   router it is a layer of.
 */
export function mountPrefix(
  req: RoutedRequest,
  outer: string,
  inner: string,
  ownerNext: unknown,
): void {
  // The owner router's parentUrl: '' for the app, the mount path for a
  // sub-app that installed the middleware itself.
  const ownerBase = typeof req.baseUrl === 'string' ? req.baseUrl : '';
  let baseUrl: unknown = outer + ownerBase + inner;
  Object.defineProperty(req, 'baseUrl', {
    configurable: true,
    enumerable: true,
    get: () => baseUrl,
    set: (value: unknown) => {
      baseUrl =
        req.next === ownerNext && typeof value === 'string' && value.startsWith(ownerBase)
          ? outer + ownerBase + inner + value.slice(ownerBase.length)
          : value;
    },
  });
}
