/**
 * A pure function of one string that keeps its last answer: per call, one
 * comparison with the last argument, and the work only when it differs.
 * Behind a proxy the peer address and the host repeat from request to
 * request, so most calls cost the comparison. `compute` must depend on its
 * argument alone (an answer is shared between calls: make objects frozen).
 */
export function keepLast<T>(compute: (text: string) => T): (text: string) => T {
  let lastText: string | undefined;
  let lastAnswer = undefined as T;
  return (text) => {
    if (text === lastText) return lastAnswer;
    lastAnswer = compute(text);
    lastText = text;
    return lastAnswer;
  };
}
