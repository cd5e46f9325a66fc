import { TrustedRangesUnavailableError } from './errors.js';
import { trustGate, trustSourcesReady } from './gate.js';
import { compileOptions } from './options.js';

const silent = { warn: () => undefined };

function deferredSource() {
  let settle!: { resolve: () => void; reject: (error: Error) => void };
  const ready = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  return { source: { contains: () => false, ready: () => ready }, settle };
}

describe('trustGate', () => {
  it('is undefined without range sources: nothing to wait for', () => {
    expect(trustGate(compileOptions({ trustedProxy: 'loopback', logger: silent }))).toBeUndefined();
  });

  it('opens once every source has loaded', async () => {
    const a = deferredSource();
    const b = deferredSource();
    const gate = trustGate(
      compileOptions({ trustedProxy: [a.source, 'loopback', b.source], logger: silent }),
    );
    expect(gate?.open).toBe(false);
    a.settle.resolve();
    await Promise.resolve();
    expect(gate?.open).toBe(false);
    b.settle.resolve();
    await gate?.settled;
    expect(gate).toMatchObject({ open: true, failure: undefined });
  });

  it('fails with a 503 error carrying the cause when a first load fails', async () => {
    const a = deferredSource();
    const options = compileOptions({ trustedProxy: a.source, logger: silent });
    const gate = trustGate(options);
    const cause = new Error('connect ECONNREFUSED');
    a.settle.reject(cause);
    await gate?.settled;
    expect(gate?.open).toBe(false);
    expect(gate?.failure).toBeInstanceOf(TrustedRangesUnavailableError);
    expect(gate?.failure).toMatchObject({ statusCode: 503, expose: true, cause });
    await expect(trustSourcesReady(options)).rejects.toBe(cause);
  });
});
