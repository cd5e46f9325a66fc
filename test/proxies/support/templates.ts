/**
 * The examples under examples/<proxy>/ are templates with `{{NAME}}`
 * placeholders for ports and paths. The suite renders those same files, so a
 * change to an example is a change to what the suite runs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const EXAMPLES = join(__dirname, '..', '..', '..', 'examples');

const PLACEHOLDER = /\{\{([A-Z_]+)\}\}/g;

/** Replaces every placeholder; a placeholder without a value is an error. */
export function renderTemplate(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(PLACEHOLDER, (_match, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for the placeholder {{${name}}}`);
    return value;
  });
}

/** The placeholders a template uses, in order of first use. */
export function placeholdersOf(text: string): string[] {
  return [...new Set(Array.from(text.matchAll(PLACEHOLDER), (match) => match[1] ?? ''))];
}

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
