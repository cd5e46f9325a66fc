/** The report's verdicts on its targets (no imports: the unit test loads it alone). */

/**
 * A target's outcome. End to end, a median alone is not a finding: a target
 * is met only when every round's ratio meets it, missed only when none does,
 * and otherwise not shown (the rounds fall on both sides of it).
 */
export type Verdict = 'met' | 'missed' | 'not shown';

/** The verdict for `range` (lowest, highest) against "at least `goal`". */
export function verdictOf([low, high]: readonly [number, number], goal: number): Verdict {
  if (low >= goal) return 'met';
  if (high < goal) return 'missed';
  return 'not shown';
}

/**
 * Whether the adapter is faster than the framework's own setting, from each
 * form's lowest and highest round ratio to bare: faster only when the
 * adapter's slowest round beats the setting's fastest, slower when its
 * fastest is no better than the setting's slowest.
 */
export function fasterVerdict(
  [adapterLow, adapterHigh]: readonly [number, number],
  [settingLow, settingHigh]: readonly [number, number],
): Verdict {
  if (adapterLow > settingHigh) return 'met';
  if (adapterHigh <= settingLow) return 'missed';
  return 'not shown';
}

/** How the report words a verdict. */
export function verdictText(verdict: Verdict): string {
  if (verdict === 'met') return 'met';
  if (verdict === 'missed') return '**missed**';
  return 'not shown: the rounds fall on both sides';
}
