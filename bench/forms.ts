/** The end-to-end forms and frameworks, shared by the runner and the servers. */
export type Framework = 'express' | 'fastify' | 'koa';
export type Form = 'bare' | 'noop' | 'trust' | 'adapter';

export const FRAMEWORKS: readonly Framework[] = ['express', 'fastify', 'koa'];
export const FORMS: readonly Form[] = ['bare', 'noop', 'trust', 'adapter'];

/**
 * What the noop form adds to the bare app: the least any adapter can cost,
 * a middleware or hook that does nothing.
 */
export const NOOP_SETTINGS: Readonly<Record<Framework, string>> = {
  express: 'app.use((req, res, next) => next())',
  fastify: "app.addHook('onRequest', (request, reply, done) => done())",
  koa: 'app.use((ctx, next) => next())',
};

/** What a server reports over IPC. */
export interface ServerStats {
  /** CPU time so far (user + system), µs. */
  readonly cpuMicros: number;
  /** Heap used after a full collection, bytes. */
  readonly heapUsed: number;
}

/** Each framework's own trust setting, as the trust form sets it. */
export const TRUST_SETTINGS: Readonly<Record<Framework, string>> = {
  express: "app.set('trust proxy', 'loopback')",
  fastify: "Fastify({ trustProxy: 'loopback' })",
  koa: 'app.proxy = true',
};
