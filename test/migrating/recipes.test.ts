/**
 * docs/recipes, held where it can be here: every `waitress-proxy explain`
 * example on a recipe page is run through the real command (`runCommand`,
 * the function the bin runs), and its output must be exactly what the page
 * shows, so a page never shows a result the engine does not give. The
 * platforms themselves cannot run here (no network beyond loopback); the
 * self-hosted proxies run in test/proxies.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '@waitress-proxy/cli';

const RECIPES = join(__dirname, '..', '..', 'docs', 'recipes');
const PAGES = readdirSync(RECIPES).filter((name) => name.endsWith('.md') && name !== 'README.md');
const COMMAND = '$ npx waitress-proxy ';

/** A command line's words, as a POSIX shell splits them (double quotes only). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  for (const match of line.matchAll(/(?:[^\s"]+|"[^"]*")+/g))
    words.push(match[0].replace(/"/g, ''));
  return words;
}

interface Example {
  page: string;
  args: string[];
  shown: string;
}

function examplesOf(page: string): Example[] {
  const text = readFileSync(join(RECIPES, page), 'utf8');
  const examples: Example[] = [];
  for (const match of text.matchAll(/^```console\n([\s\S]*?)^```/gm)) {
    const [first = '', ...rest] = (match[1] ?? '').trimEnd().split('\n');
    if (!first.startsWith(COMMAND)) continue;
    examples.push({ page, args: shellWords(first.slice(COMMAND.length)), shown: rest.join('\n') });
  }
  return examples;
}

const EXAMPLES = PAGES.flatMap(examplesOf);

describe('docs/recipes', () => {
  it('has a page for each platform the index lists, and the index lists every page', () => {
    const index = readFileSync(join(RECIPES, 'README.md'), 'utf8');
    const linked = [...index.matchAll(/\]\(([a-z0-9-]+\.md)\)/g)].map((match) => match[1]);
    expect([...new Set(linked)].sort()).toEqual([...PAGES].sort());
    expect(PAGES).toHaveLength(15);
  });

  it.each(PAGES)(
    '%s says whether it was tried here, cites its sources, and shows an example',
    (page) => {
      const text = readFileSync(join(RECIPES, page), 'utf8');
      expect(text).toMatch(/^\*\*Tried here\*\*: (yes|no)\b/m);
      expect(text).toMatch(/\]: https:\/\//);
      expect(examplesOf(page).length).toBeGreaterThan(0);
    },
  );

  it.each(EXAMPLES.map((example) => [example.page, example] as const))(
    '%s: the explain example prints what the page shows',
    (_page, example) => {
      const out: string[] = [];
      const status = runCommand(example.args, {
        readInput: () => '',
        stdout: (text) => out.push(text),
        stderr: (text) => out.push(text),
      });
      expect(status).toBe(0);
      expect(out.join('').trimEnd()).toBe(example.shown);
    },
  );
});
