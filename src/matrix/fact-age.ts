// How old the facts behind a resolution are: a warning for every choice whose oldest fact was read longer ago than
// the allowed age, so a lock made from a stale matrix says so. Pure: `now` and the age come in.
import type { Decision } from '../config/lock.ts';
import { dayOf } from './version.ts';

/** The default of `--max-fact-age`: a matrix not refreshed for a quarter is worth a warning. */
export const DEFAULT_MAX_FACT_AGE_DAYS = 90;

const DAY_MS = 24 * 60 * 60 * 1000;

/** Whole days from `read` (YYYY-MM-DD) to `now`'s day. */
export function ageInDays(read: string, now: Date): number {
  return Math.floor((Date.parse(`${dayOf(now)}T00:00:00Z`) - Date.parse(`${read}T00:00:00Z`)) / DAY_MS);
}

/** One warning naming every component whose facts are older than `maxAgeDays`, or none. */
export function staleFactWarnings(decisions: readonly Decision[], now: Date, maxAgeDays: number): string[] {
  const stale = decisions.filter((d) => d.factsRead && ageInDays(d.factsRead, now) > maxAgeDays);
  if (stale.length === 0) return [];
  const list = stale.map((d) => `${d.component} (read ${d.factsRead}, ${ageInDays(d.factsRead!, now)} days ago)`).join(', ');
  return [`these choices rest on matrix facts older than ${maxAgeDays} days: ${list}; run \`ferry matrix refresh\` on the internet side [facts-older-than-max-age]`];
}
