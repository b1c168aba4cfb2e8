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

function compareRank(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Supported first; among end-of-life ones, the one that ended last; then the picker's rank. */
function better<T>(a: Candidate<T>, aPast: boolean, b: Candidate<T>, bPast: boolean): boolean {
  if (aPast !== bPast) return !aPast;
  if (aPast && a.eol !== b.eol) return (a.eol ?? '') > (b.eol ?? '');
  return compareRank(a.rank, b.rank) < 0;
}

/** The best candidate no rule refuses, or the refusals (one per distinct rule set, from the most preferred candidate). */
export function choose<T>(candidates: readonly Candidate<T>[], refusals: (c: Candidate<T>) => Conflict[], today: string): Choice<T> {
  let conflicts: Map<string, Conflict> | null = null;
  let best: Candidate<T> | null = null;
  let bestPast = false;
  for (const c of candidates) {
    const refused = refusals(c);
    if (refused.length > 0) {
      conflicts ??= new Map();
      for (const r of refused) {
        const key = r.rules.join(',');
        if (!conflicts.has(key)) conflicts.set(key, r);
      }
      continue;
    }
    const past = isPast(c.eol, today);
    if (best === null || better(c, past, best, bestPast)) {
      best = c;
      bestPast = past;
    }
  }
  if (best) return { ok: true, chosen: best, endOfLife: bestPast };
  return { ok: false, conflicts: conflicts ? [...conflicts.values()] : [{ rules: [], message: 'no candidate in the matrix' }] };
}
