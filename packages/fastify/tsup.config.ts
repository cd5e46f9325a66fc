import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  tsconfig: 'tsconfig.build.json',
  // CommonJS consumers get the plugin as module.exports, with the named
  // exports and `default` as its properties, as Fastify's official plugins
  // ship: `require('@waitress-proxy/fastify')` is the plugin itself.
  footer: ({ format }) =>
    format === 'cjs'
      ? { js: 'module.exports = Object.assign(module.exports.default, module.exports);' }
      : {},
});
