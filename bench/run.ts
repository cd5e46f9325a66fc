/**
 * `pnpm bench`: the whole suite, then docs/performance.md and
 * docs/performance.svg from its results. Runs after `pnpm run build` (the
 * script does both) with `node --expose-gc`, and takes under three minutes
 * on a 2-core machine.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { printCore, runCore } from './core.js';
import { FRAMEWORKS, printFramework, runFramework } from './e2e.js';
import type { E2eOptions, E2eResult } from './e2e.js';
import { printMemory, runMemory } from './memory.js';
import { renderMarkdown, renderSvg, targets } from './report.js';

const started = performance.now();
const log = (line: string) => {
  console.error(`[${((performance.now() - started) / 1000).toFixed(0)} s] ${line}`);
};

const CORE_TIME_MS = 500;
const E2E: E2eOptions = { rounds: 3, seconds: 2, connections: 32, warmupSeconds: 0.5 };

log('core');
const core = runCore(CORE_TIME_MS);
printCore(core);

const e2e: E2eResult[] = [];
for (const framework of FRAMEWORKS) {
  const result = await runFramework(framework, E2E, log);
  printFramework(result);
  e2e.push(result);
}

log('memory');
const memory = await runMemory();
printMemory(memory);

const results = {
  date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
  core,
  coreTimeMs: CORE_TIME_MS,
  e2e,
  e2eOptions: E2E,
  memory,
  seconds: (performance.now() - started) / 1000,
};
const docs = (name: string) => fileURLToPath(new URL(`../docs/${name}`, import.meta.url));
// Formatted as `prettier --check .` (CI) wants it: the tables aligned.
const markdownPath = docs('performance.md');
const markdown = await format(renderMarkdown(results), {
  ...(await resolveConfig(markdownPath)),
  filepath: markdownPath,
});
writeFileSync(markdownPath, markdown);
writeFileSync(docs('performance.svg'), renderSvg(results));
for (const t of targets(results)) {
  const label =
    t.verdict === 'met' ? 'met      ' : t.verdict === 'missed' ? 'MISSED   ' : 'not shown';
  console.log(`${label} ${t.what}: ${t.measured} (target ${t.target})`);
}
log('wrote docs/performance.md and docs/performance.svg');
