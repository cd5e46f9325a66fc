// @ts-check
/**
 * The API reference in docs/api, generated from the TSDoc in every published
 * package's src/index.ts (`pnpm docs:api`; CI checks it is current). Every
 * packages/<name> with a src/index.ts is included, so a new package is
 * documented without editing this file. One TypeScript program over the
 * sources (tsconfig.typedoc.json): no build needed, and an adapter's
 * re-export of a core name links to the core's page instead of copying it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const packages = readdirSync('packages')
  .filter((name) => existsSync(join('packages', name, 'src/index.ts')))
  .sort();

/** @type {Partial<import('typedoc').TypeDocOptions & import('typedoc-plugin-markdown').PluginOptions>} */
const config = {
  name: 'waitress-proxy API',
  entryPointStrategy: 'resolve',
  entryPoints: packages.map((name) => `packages/${name}/src/index.ts`),
  tsconfig: './tsconfig.typedoc.json',
  plugin: ['typedoc-plugin-markdown', './scripts/typedoc-package-names.mjs'],
  out: 'docs/api',
  readme: 'none',
  // No "Defined in file:line": a line moved in a source file must not make
  // the checked-in reference stale.
  disableSources: true,
  excludePrivate: true,
  excludeInternal: true,
  // Members inherited from the standard library (Error's stack, cause...) are
  // not ours, and their text would follow whichever @types/node is installed.
  excludeExternals: true,
  // Every exported name of every package needs a TSDoc comment: a missing
  // one fails `pnpm docs:api`.
  validation: { notExported: true, invalidLink: true, notDocumented: true },
  packagesRequiringDocumentation: packages.map(
    (name) => JSON.parse(readFileSync(join('packages', name, 'package.json'), 'utf8')).name,
  ),
  treatWarningsAsErrors: true,
  hidePageHeader: true,
  hideBreadcrumbs: false,
  useCodeBlocks: true,
  parametersFormat: 'table',
  interfacePropertiesFormat: 'table',
  classPropertiesFormat: 'table',
  typeDeclarationFormat: 'table',
  // Formatted as `prettier --check .` (in `pnpm lint`) expects.
  formatWithPrettier: true,
};

export default config;
