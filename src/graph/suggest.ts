// "Did you mean" suggestions for misspelled names (layers, arguments, parameters, networks).

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions, case-blind. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const rows: number[][] = [];
  for (let i = 0; i <= s.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= t.length; j++) {
      if (i === 0) {
        rows[i].push(j);
        continue;
      }
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) {
        best = Math.min(best, rows[i - 2][j - 2] + 1);
      }
      rows[i].push(best);
    }
  }
  return rows[s.length][t.length];
}

/**
 * Returns the candidate closest to `name`, or undefined when none is close enough: the distance
 * must be at most a third of the longer name (at least 1), so unrelated names get no suggestion.
 * Failing that, a name of 3 or more characters matches the shortest candidate it begins.
 */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  if (name === '') return undefined;
  const list = [...candidates];
  return closestByDistance(name, list) ?? shortestWithPrefix(name, list);
}

function shortestWithPrefix(name: string, candidates: string[]): string | undefined {
  if (name.length < 3) return undefined;
  const prefix = name.toLowerCase();
  const matches = candidates.filter((candidate) => candidate.toLowerCase().startsWith(prefix));
  matches.sort((a, b) => a.length - b.length);
  return matches[0];
}

function closestByDistance(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate);
    const limit = Math.max(1, Math.floor(Math.max(name.length, candidate.length) / 3));
    if (distance <= limit && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Returns " Did you mean 'x'?" for the closest candidate, or an empty string. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const match = closestName(name, candidates);
  return match === undefined ? '' : ` Did you mean '${match}'?`;
}
