/**
 * The examples under examples/<proxy>/ are templates with `{{NAME}}`
 * placeholders for ports and paths. The suite renders those same files, so a
 * change to an example is a change to what the suite runs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderTemplate } from '../../../examples/demo/src/template.js';

export const EXAMPLES = join(__dirname, '..', '..', '..', 'examples');

/**
 * Renders `examples/<relativePath>` into `targetDir` under the same file name
 * and returns the rendered file's path. Refuses values that would make a
 * proxy listen beyond loopback.
 */
export function renderExample(
  relativePath: string,
  targetDir: string,
  values: Readonly<Record<string, string>>,
  targetName?: string,
): string {
  const address = values.PROXY_ADDRESS;
  if (address !== undefined && !address.startsWith('127.')) {
    throw new Error(`the suite listens on loopback only, not on ${address}`);
  }
  const text = readFileSync(join(EXAMPLES, relativePath), 'utf8');
  const target = join(targetDir, targetName ?? relativePath.replace(/^.*\//, ''));
  writeFileSync(target, renderTemplate(text, values));
  return target;
}
