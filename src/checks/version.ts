// Version arithmetic the checks share: Kubernetes minors and loose version comparison of tool output.
import semver from 'semver';

/** `1.33`, `v1.33.2` → 33; NaN when it is not a 1.x version. */
export function kubeMinor(version: string): number {
  const m = /^v?1\.(\d+)/.exec(version.trim());
  return m ? Number(m[1]) : Number.NaN;
}

/** Compare loose versions (`4.18.0-553.el8_10.x86_64`, `1.8.4`); -1, 0 or 1. */
export function compareLoose(a: string, b: string): number {
  const ca = semver.coerce(a);
  const cb = semver.coerce(b);
  if (!ca || !cb) return 0;
  return semver.compare(ca, cb);
}
