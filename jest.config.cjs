/**
 * One jest run for the whole monorepo: unit tests beside the sources in
 * packages/, integration tests over real sockets in test/.
 * TypeScript is transformed by SWC (no type-checking here: `pnpm typecheck`
 * does that with tsc), and workspace packages resolve to their sources so a
 * test never runs against a stale build.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j)s$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'commonjs' },
      },
    ],
  },
  moduleNameMapper: {
    '^@waitress-proxy/([a-z-]+)$': '<rootDir>/packages/$1/src/index.ts',
    '^@waitress-proxy/core/internal$': '<rootDir>/packages/core/src/internal.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};
