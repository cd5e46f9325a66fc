// @ts-check
/**
 * A TypeDoc plugin for typedoc.config.mjs: each module of the API reference
 * is named for its package (`@waitress-proxy/core`) instead of its folder
 * (`core/src`), read from packages/<folder>/package.json, so a new package
 * needs no `@module` tag to be named right.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Converter, ReflectionKind } from 'typedoc';

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const module of context.project.getReflectionsByKind(ReflectionKind.Module)) {
      const folder = /^([\w.-]+)\/src$/.exec(module.name)?.[1];
      if (folder === undefined) continue;
      const manifest = JSON.parse(readFileSync(join('packages', folder, 'package.json'), 'utf8'));
      module.name = manifest.name;
    }
  });
}
