import { keepLast } from './keep-last.js';

describe('keepLast', () => {
  it('computes again for every argument that differs from the last, the empty string too', () => {
    const seen: string[] = [];
    const length = keepLast((text) => {
      seen.push(text);
      return text.length;
    });
    expect([length(''), length(''), length('ab'), length('ab'), length(''), length('abc')]).toEqual(
      [0, 0, 2, 2, 0, 3],
    );
    expect(seen).toEqual(['', 'ab', '', 'abc']);
  });
});
