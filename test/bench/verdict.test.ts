/**
 * The report's end-to-end verdicts: a median inside noisy rounds is not a
 * finding, so a target is met only when every round meets it.
 */
import { fasterVerdict, verdictOf, verdictText } from '../../bench/verdict';

describe('verdictOf', () => {
  it('is met only when the slowest round meets the goal', () => {
    expect(verdictOf([0.97, 1.2], 0.97)).toBe('met');
    expect(verdictOf([0.811, 1.291], 0.97)).toBe('not shown');
  });

  it('is missed only when the fastest round falls short', () => {
    expect(verdictOf([0.8, 0.969], 0.97)).toBe('missed');
    expect(verdictOf([0.863, 1.003], 0.97)).toBe('not shown');
  });

  it('calls the adapter faster than the setting only when its slowest round beats the setting’s fastest', () => {
    expect(fasterVerdict([0.95, 1.0], [0.8, 0.94])).toBe('met');
    expect(fasterVerdict([0.876, 1.122], [0.744, 1.111])).toBe('not shown');
    expect(fasterVerdict([0.7, 0.8], [0.8, 0.9])).toBe('missed');
  });

  it('words "not shown" as such, not as met or missed', () => {
    expect(verdictText('not shown')).toBe('not shown: the rounds fall on both sides');
    expect(verdictText('missed')).toBe('**missed**');
  });
});
