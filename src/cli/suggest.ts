/**
 * Did-you-mean for commands and options: the optimal string alignment
 * distance (Levenshtein plus adjacent transpositions, so `biuld` is one edit
 * from `build`), with a threshold that keeps unrelated words apart (`start`
 * is three edits from `stop`, `login` two from `logs`: neither suggested).
 */

/** Edits (insert, delete, substitute, swap two neighbours) turning `a` into `b`. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidate `word` was most likely meant as, or undefined: one edit for
 * words up to 5 letters, two beyond; or the only candidate it is a 3+ letter
 * prefix of (`insp` → `inspect`). Ties give nothing rather than a guess.
 */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  const limit = w.length <= 5 ? 1 : 2;
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  let tie = false;
  for (const c of new Set(candidates)) {
    const dist = editDistance(w, c);
    if (dist < bestD) {
      best = c;
      bestD = dist;
      tie = false;
    } else if (dist === bestD && c !== best) tie = true;
  }
  if (best !== undefined && bestD <= limit && bestD < w.length && !tie) return best;
  if (w.length >= 3) {
    const prefixed = [...new Set(candidates)].filter((c) => c.startsWith(w));
    if (prefixed.length === 1) return prefixed[0];
  }
  return undefined;
}
