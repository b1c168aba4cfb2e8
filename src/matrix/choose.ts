// Picking one candidate the way an expert would: drop those a rule refuses, then prefer supported over
// end-of-life, then the picker's own ranking. Pure; shared by every component of the resolver.
import type { SemVer } from 'semver';
import type { Conflict } from '../errors.ts';
import { isPast } from './version.ts';

export interface Candidate<T> {
  item: T;
  version: SemVer;
  /** End-of-life date, if the matrix knows one. */
  eol?: string | undefined;
  /** Lower is better, compared element by element after support status. */
  rank: number[];
}

export type Choice<T> = { ok: true; chosen: Candidate<T>; endOfLife: boolean } | { ok: false; conflicts: Conflict[] };

function compareRank(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The best candidate no rule refuses, or the refusals (one per distinct rule set, from the most preferred candidate). */
export function choose<T>(candidates: readonly Candidate<T>[], refusals: (c: Candidate<T>) => Conflict[], now: Date): Choice<T> {
  const conflicts = new Map<string, Conflict>();
  let best: Candidate<T> | null = null;
  let bestKey: number[] = [];
  for (const c of candidates) {
    const refused = refusals(c);
    if (refused.length > 0) {
      for (const r of refused) if (!conflicts.has(r.rules.join(','))) conflicts.set(r.rules.join(','), r);
      continue;
    }
    const past = isPast(c.eol, now);
    // Supported first; among end-of-life ones, the one that ended last.
    const key = [past ? 1 : 0, past && c.eol ? -Date.parse(c.eol) : 0, ...c.rank];
    if (best === null || compareRank(key, bestKey) < 0) {
      best = c;
      bestKey = key;
    }
  }
  if (best) return { ok: true, chosen: best, endOfLife: isPast(best.eol, now) };
  return { ok: false, conflicts: [...conflicts.values()] };
}
