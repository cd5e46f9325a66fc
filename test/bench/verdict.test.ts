/**
 * The report's end-to-end verdicts: a median inside noisy rounds is not a
 * finding, so a target is met only when every round meets it.
 */
import { verdictOf, verdictText } from '../../bench/verdict';

describe('verdictOf', () => {
  it('is met only when the slowest round meets the goal', () => {
    expect(verdictOf([0.97, 1.2], 0.97)).toBe('met');
    expect(verdictOf([0.811, 1.291], 0.97)).toBe('not shown');
  });

  it('is missed only when the fastest round falls short', () => {
    expect(verdictOf([0.8, 0.969], 0.97)).toBe('missed');
    expect(verdictOf([0.863, 1.003], 0.97)).toBe('not shown');
  });

  it('words "not shown" as such, not as met or missed', () => {
    expect(verdictText('not shown')).toBe('not shown: the rounds fall on both sides');
    expect(verdictText('missed')).toBe('**missed**');
  });
});
