/**
 * One end-to-end server, run in a child process by bench/e2e.ts:
 * `server.ts <framework> <form>`. The app reads the client's address, the
 * scheme and the host name, the three values proxy handling changes, and
 * answers them as JSON; it listens on 127.0.0.1 only.
 *
 * Forms: `bare` (no proxy handling: the framework reads the socket and the
 * Host header), `noop` (bare plus a middleware or hook that does nothing:
 * the least any adapter can cost), `trust` (the framework's own setting, trusting loopback
 * where it can), `adapter` (our package, trusting loopback).
 *
 * Over IPC it sends its port once listening, and answers every message with
 * its CPU time so far (µs) and its heap after a full collection (bytes).
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Form, Framework, ServerStats } from './forms.js';

const OPTIONS = {
  trustedProxy: 'loopback',
  trustedProxyHeaders: [
    'x-forwarded-for',
    'x-forwarded-proto',
    'x-forwarded-host',
    'x-forwarded-port',
  ],
  logger: { warn: () => undefined },
};

async function express(form: Form): Promise<Server> {
  const { default: createApp } = await import('express');
  const app = createApp();
  if (form === 'trust') app.set('trust proxy', 'loopback');
  if (form === 'noop') {
    app.use((_req, _res, next) => {
      next();
    });
  }
  if (form === 'adapter') {
    const { waitressProxy } = await import('@waitress-proxy/express');
    app.use(waitressProxy(OPTIONS));
  }
  app.get('/', (req, res) => {
    res.json({ ip: req.ip, protocol: req.protocol, hostname: req.hostname });
  });
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => {
      resolve(server);
    });
  });
}

async function fastify(form: Form): Promise<Server> {
  const { default: Fastify } = await import('fastify');
  const app = Fastify(form === 'trust' ? { trustProxy: 'loopback' } : {});
  if (form === 'adapter') {
    const { waitressProxy } = await import('@waitress-proxy/fastify');
    await app.register(waitressProxy, OPTIONS);
  }
  if (form === 'noop') {
    app.addHook('onRequest', (_request, _reply, done) => {
      done();
    });
  }
  app.get('/', (request) => ({
    ip: request.ip,
    protocol: request.protocol,
    hostname: request.hostname,
  }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app.server;
}

async function koa(form: Form): Promise<Server> {
  const { default: Koa } = await import('koa');
  const app = new Koa();
  // Koa's only trust setting: every peer's X-Forwarded-* are believed.
  if (form === 'trust') app.proxy = true;
  if (form === 'noop') app.use((_ctx, next) => next());
  if (form === 'adapter') {
    const { waitressProxy } = await import('@waitress-proxy/koa');
    app.use(waitressProxy(OPTIONS));
  }
  app.use((ctx) => {
    ctx.body = { ip: ctx.ip, protocol: ctx.protocol, hostname: ctx.hostname };
  });
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => {
      resolve(server);
    });
  });
}

const STARTERS: Readonly<Record<Framework, (form: Form) => Promise<Server>>> = {
  express,
  fastify,
  koa,
};

function stats(): ServerStats {
  // Started with --expose-gc by bench/e2e.ts.
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('bench/server.ts needs node --expose-gc');
  // CPU first: the collections below are the benchmark's, not the app's.
  const { user, system } = process.cpuUsage();
  gc();
  gc();
  return { cpuMicros: user + system, heapUsed: process.memoryUsage().heapUsed };
}

const [framework, form] = process.argv.slice(2) as [Framework, Form];
const server = await STARTERS[framework](form);
process.on('message', () => {
  process.send?.(stats());
});
process.on('disconnect', () => {
  server.close();
  process.exit(0);
});
process.send?.((server.address() as AddressInfo).port);
