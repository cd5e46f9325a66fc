import { defineConfig } from 'tsup';

export default defineConfig({
  // internal: the adapters' shared plumbing (not public API).
  entry: ['src/index.ts', 'src/internal.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  tsconfig: 'tsconfig.build.json',
});
