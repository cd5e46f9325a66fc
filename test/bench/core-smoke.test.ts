/**
 * The benchmark suite starts and measures (not how fast: CI runs no
 * benchmark). One core case, in the process `pnpm bench` would start for
 * it, with a tiny time budget: it must check that both sides find the same
 * client and print a result whose numbers fit together.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

interface CoreResult {
  id: string;
  oursNs: number;
  baselineNs: number;
  speedup: number;
}

describe('bench/core.ts', () => {
  it.each(['a', 'c', 'f', 'g', 'h'])('measures case %s against its baseline', (id) => {
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', join('bench', 'core.ts'), '--case', id, '20'],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    const result = JSON.parse(child.stdout) as CoreResult;
    expect(result.id).toBe(id);
    expect(result.oursNs).toBeGreaterThan(0);
    expect(result.baselineNs).toBeGreaterThan(0);
    expect(result.speedup).toBeCloseTo(result.baselineNs / result.oursNs, 6);
  });
});
