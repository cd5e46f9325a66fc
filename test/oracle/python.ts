/**
 * Finding a Python that has Debian's waitress (and whatever else a test
 * imports from it). `python3` on PATH may be a pyenv shim without it, so
 * `/usr/bin/python3` is tried too; `WAITRESS_ORACLE_PYTHON` goes first.
 */
import { spawnSync } from 'node:child_process';

/** The first Python that can run `import <modules>`, and what was tried. */
export function findPython(modules: string): { python: string | undefined; tried: string[] } {
  const candidates = [process.env.WAITRESS_ORACLE_PYTHON, '/usr/bin/python3', 'python3'].filter(
    (candidate): candidate is string => candidate !== undefined && candidate !== '',
  );
  const tried: string[] = [];
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', `import ${modules}`], { encoding: 'utf8' });
    if (probe.status === 0) return { python, tried };
    tried.push(`${python}: ${probe.error?.message ?? probe.stderr.trim().split('\n').pop() ?? ''}`);
  }
  return { python: undefined, tried };
}
