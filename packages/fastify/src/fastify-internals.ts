/**
 * What the plugin reads of Fastify 5's internals, each kept under an
 * unexported symbol (lib/symbols.js) and found by its description, once per
 * registration, never per request:
 *
 * - `Symbol('fastify.options')`, the options the app was created with, an own
 *   property of the root instance only (`initialConfig`, the public copy,
 *   leaves out `rewriteUrl`, a function, and `trustProxy`, the two the plugin
 *   checks);
 * - `Symbol('fastify.Request')`, the context's Request class, whose prototype
 *   holds the getters the plugin replaces (encapsulated contexts inherit it);
 * - `Symbol('fastify.serverBindings')`, the extra servers `listen()` opens
 *   for `localhost`'s other addresses.
 */
import type { Server } from 'node:net';
import type { FastifyInstance } from 'fastify';

/** The server options the plugin checks. */
export interface CheckedServerOptions {
  readonly rewriteUrl?: unknown;
  readonly trustProxy?: unknown;
  /** Read by Fastify when it calls it, so the plugin can wrap it. */
  frameworkErrors?: unknown;
}

/** The object on `fastify`'s chain that holds the symbol described `description`, and its value. */
function internal(
  fastify: FastifyInstance,
  description: string,
): { readonly holder: object; readonly value: unknown } | undefined {
  let object: object | null = fastify;
  for (; object !== null; object = Object.getPrototypeOf(object) as object | null) {
    for (const symbol of Object.getOwnPropertySymbols(object)) {
      if (symbol.description === description) {
        return { holder: object, value: Reflect.get(object, symbol) as unknown };
      }
    }
  }
  return undefined;
}

/**
 * The options `fastify` (or the root app of an encapsulated instance, which
 * inherits them through its prototype chain) was created with; undefined if
 * this Fastify keeps them elsewhere.
 */
export function serverOptionsOf(fastify: FastifyInstance): CheckedServerOptions | undefined {
  const options = internal(fastify, 'fastify.options')?.value;
  return typeof options === 'object' && options !== null ? options : undefined;
}

/**
 * Whether `fastify` is the app itself, not an encapsulated context: Fastify
 * makes each context with `Object.create(parent)`, so only the app holds its
 * options as an own property.
 */
export function isRootContext(fastify: FastifyInstance): boolean {
  return internal(fastify, 'fastify.options')?.holder === fastify;
}

/** The prototype of the Request class of `fastify`'s context; undefined if not found. */
export function requestPrototypeOf(fastify: FastifyInstance): object | undefined {
  const Request = internal(fastify, 'fastify.Request')?.value;
  if (typeof Request !== 'function') return undefined;
  const prototype = (Request as { prototype?: unknown }).prototype;
  return typeof prototype === 'object' && prototype !== null ? prototype : undefined;
}

/** The servers `listen()` opened besides `fastify.server` (for `localhost`'s other addresses). */
export function serverBindingsOf(fastify: FastifyInstance): readonly Server[] {
  const bindings = internal(fastify, 'fastify.serverBindings')?.value;
  return Array.isArray(bindings) ? (bindings as Server[]) : [];
}
