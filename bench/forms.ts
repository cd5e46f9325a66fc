/** The end-to-end forms and frameworks, shared by the runner and the servers. */
export type Framework = 'express' | 'fastify' | 'koa';
export type Form = 'bare' | 'trust' | 'adapter';

export const FRAMEWORKS: readonly Framework[] = ['express', 'fastify', 'koa'];
export const FORMS: readonly Form[] = ['bare', 'trust', 'adapter'];

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
