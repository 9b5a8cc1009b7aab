// "Did you mean": the known word closest to a misspelt one, shared by config validation and the
// equation checks of custom cells.

/** The allowed word closest to a misspelt one (edit distance ≤ 2, and less than the word's length). */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= 2 && bestDistance < word.length && best !== word ? best : undefined;
}

/**
 * The "; did you mean "x"?" tail of a message, or `otherwise` (e.g. "; allowed keys here: ...") when no
 * candidate is close: every such hint is worded here, once.
 */
export function didYouMean(word: string, candidates: readonly string[], otherwise = ''): string {
  const suggestion = closest(word, candidates);
  return suggestion !== undefined ? `; did you mean "${suggestion}"?` : otherwise;
}

/** Levenshtein distance. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
