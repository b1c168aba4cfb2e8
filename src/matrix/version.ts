// Version helpers over semver: every comparison in the resolver goes through these, on versions parsed once.
import semver, { type SemVer } from 'semver';

/** Parse a matrix or pin version ("1.35", "580.126.09", "4.18.0-553") into a SemVer; null when it is not one. */
export function parseVersion(text: string): SemVer | null {
  return semver.coerce(text, { loose: true });
}

/** Like parseVersion, for versions the schema already validated: a failure is a bug. */
export function mustParse(text: string): SemVer {
  const v = parseVersion(text);
  if (!v) throw new Error(`not a version: ${text}`);
  return v;
}

/** The "major.minor" of a version, which is how branches and minors are named in the matrix. */
export function minorOf(v: SemVer): string {
  return `${v.major}.${v.minor}`;
}

/** a < b, a = b, a > b as -1, 0, 1 (SemVer's own compare on parsed objects: no re-parsing in the hot path). */
export function compareVersions(a: SemVer, b: SemVer): number {
  return a.compare(b);
}

/** True when `v` is in the same major.minor as `line` and not older than it. */
export function sameLineAtLeast(v: SemVer, line: SemVer): boolean {
  return v.major === line.major && v.minor === line.minor && v.compare(line) >= 0;
}

/** The UTC day of `now` as YYYY-MM-DD: end-of-life dates compare against it as strings. */
export function dayOf(now: Date): string {
  const m = now.getUTCMonth() + 1;
  const d = now.getUTCDate();
  return `${now.getUTCFullYear()}-${m < 10 ? '0' : ''}${m}-${d < 10 ? '0' : ''}${d}`;
}

/** Whether an end-of-life date (YYYY-MM-DD, the last supported day) lies before `today` (from dayOf). */
export function isPast(date: string | undefined, today: string): boolean {
  return date !== undefined && date < today;
}
