/**
 * Reads the options a Fastify app was created with. Fastify 5 keeps them
 * under an unexported symbol (`Symbol('fastify.options')`, lib/symbols.js);
 * `initialConfig`, the public copy, leaves out `rewriteUrl` (a function) and
 * `trustProxy`, the two this plugin must check at registration. The symbol is
 * found by its description, once per registration, never per request.
 */
import type { FastifyInstance } from 'fastify';

/** The server options the plugin checks. */
export interface CheckedServerOptions {
  readonly rewriteUrl?: unknown;
  readonly trustProxy?: unknown;
}

const OPTIONS_SYMBOL_DESCRIPTION = 'fastify.options';

/**
 * The options `fastify` (or the root app of an encapsulated instance, which
 * inherits them through its prototype chain) was created with; undefined if
 * this Fastify keeps them elsewhere.
 */
export function serverOptionsOf(fastify: FastifyInstance): CheckedServerOptions | undefined {
  let object: object | null = fastify;
  for (; object !== null; object = Object.getPrototypeOf(object) as object | null) {
    for (const symbol of Object.getOwnPropertySymbols(object)) {
      if (symbol.description !== OPTIONS_SYMBOL_DESCRIPTION) continue;
      const options = Reflect.get(object, symbol) as unknown;
      return typeof options === 'object' && options !== null ? options : undefined;
    }
  }
  return undefined;
}
