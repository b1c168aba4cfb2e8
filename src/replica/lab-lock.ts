// The request a lock for lab nodes is resolved with, used by `ferry demo` and the lab tests alike: Debian 12, the
// containerd and runc the replica's containerd.io carries (pinned), and the runc refusals accepted by name. The lab
// can only run Debian 12's own runc (newer Debian builds need glibc 2.38), whose upstream version is below runc's
// security floors although Debian backported the fixes it could (docs/lab.md, "The upstream replica"). Pure.

/** Only runc's floors and tested line may be accepted (the same set `--accept-risk` allows). */
const ACCEPTABLE = /^runc-(cve-\d{4}-\d+|min-for-containerd)$/;

/** `ferry resolve` arguments for lab nodes (with a GPU model: a driver too; `os` as `--os` takes it, e.g. `rocky-9.4` for
 * EL lab nodes, or several for a mixed cluster: one `--os` each), without the accepted risks. */
export function labResolveRequest(runtime: { containerd: string; runc: string }, k8s = '1.33', gpu?: string, os: string | readonly string[] = 'debian-12'): string[] {
  return ['resolve', ...(typeof os === 'string' ? [os] : os).flatMap((o) => ['--os', o]), ...(gpu ? ['--gpu', gpu] : []), '--k8s', k8s, '--pin', `containerd=${runtime.containerd}`, '--pin', `runc=${runtime.runc}`];
}

/**
 * `--accept-risk` arguments for what resolve refused of that request (its `--json` conflicts), each by name; throws
 * when anything other than runc's floors was refused, since nothing else may be accepted.
 */
export function acceptedRuncRisks(conflicts: readonly { rules: readonly string[] }[]): string[] {
  const rules = [...new Set(conflicts.flatMap((c) => c.rules))].sort();
  const other = rules.filter((r) => !ACCEPTABLE.test(r));
  if (other.length > 0) throw new Error(`resolve refuses the lab's runtime for other reasons than runc's floors: ${other.join(', ')}`);
  return rules.flatMap((r) => ['--accept-risk', r]);
}
