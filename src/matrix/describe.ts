// What the matrix knows, as rows for `ferry matrix list|show`: pure views of the data and the rule ids.
import type { Catalog } from './catalog.ts';
import { CODE_RULES } from './rules.ts';

export const FAMILIES = ['os', 'kubernetes', 'containerd', 'cri-o', 'runc', 'nvidia', 'gpus', 'cni', 'rules'] as const;
export type Family = (typeof FAMILIES)[number];

const mark = (verified: boolean) => (verified ? 'yes' : 'no');

/** Table rows (first row is the header) describing one family of the matrix. */
export function familyRows(catalog: Catalog, family: Family): string[][] {
  const m = catalog.matrix;
  switch (family) {
    case 'os':
      return [['ID', 'KERNEL', 'SYSTEMD', 'CGROUP', 'EOL', 'VERIFIED'], ...[...catalog.os.values()].map((o) => [o.id, o.kernel, String(o.systemd), o.cgroupDefault, `${o.eol}${o.eus ? ' (EUS)' : ''}`, mark(o.verified && o.lifecycle.verified)])];
    case 'kubernetes':
      return [['MINOR', 'LATEST', 'EOL', 'CONTAINERD', 'ETCD', 'COREDNS', 'PAUSE', 'VERIFIED'], ...catalog.kubernetes.map((k) => [k.minor, k.latest, k.eol, k.containerd.min.map((v) => `${v}+`).join(' ') || '-', k.kubeadmImages?.etcd ?? '-', k.kubeadmImages?.coredns ?? '-', k.kubeadmImages?.pause ?? '-', mark(k.verified)])];
    case 'containerd':
      return [['BRANCH', 'LATEST', 'EOL', 'LTS', 'TESTED RUNC', 'VERIFIED'], ...catalog.containerd.map((c) => [c.branch, c.latest, c.eol, c.lts ? 'yes' : 'no', c.testedRunc, mark(c.verified)])];
    case 'cri-o':
      return [['MINOR', 'LATEST', 'VERIFIED'], ...[...catalog.crio.values()].map((c) => [c.minor, c.latest, mark(c.verified)])];
    case 'runc':
      return [['BRANCH', 'LATEST', 'EOL', 'VERIFIED'], ...catalog.runc.map((r) => [r.branch, r.latest, r.eol ?? '-', mark(r.verified)])];
    case 'nvidia':
      return [['BRANCH', 'TYPE', 'LATEST', 'EOL', 'VERIFIED'], ...catalog.branches.map((b) => [`R${b.branch}`, b.type, b.latest, b.eol, mark(b.verified)])];
    case 'gpus':
      return [['MODEL', 'NAME', 'ARCHITECTURE', 'CONSTRAINTS'], ...[...catalog.gpus.values()].map((g) => [g.id, g.name, g.architecture, [...(catalog.architectures.get(g.architecture)?.constraints.map((c) => c.id) ?? []), ...(g.minDriver ? [g.minDriver.id] : [])].join(' ') || '-'])];
    case 'cni':
      return [['CNI', 'LATEST', 'KUBERNETES', 'KERNEL', 'VERIFIED'], ...m.cni.releases.map((c) => [c.name, c.latest, c.kubernetes ? `${c.kubernetes.min}-${c.kubernetes.max}` : '-', `${c.kernel.min}+${c.kernel.elMin ? ` (EL ${c.kernel.elMin}+)` : ''}`, mark(c.verified)])];
    case 'rules':
      return [['RULE', 'EFFECT', 'WHAT / SOURCE'], ...ruleRows(catalog)];
  }
}

/** Every rule id the resolver can cite: code rules and the matrix's own. */
export function ruleRows(catalog: Catalog): string[][] {
  const m = catalog.matrix;
  return [
    ...Object.entries(CODE_RULES).map(([id, r]) => [id, r.effect, r.description]),
    ...m.kubernetes.cgroupV1Rules.map((r) => [r.id, r.effect, `${r.message} (${r.source})`]),
    [m.crio.policy.id, 'refuse', `CRI-O minor equals the Kubernetes minor (${m.crio.policy.source})`],
    ...m.runc.securityFloors.map((f) => [f.id, 'refuse', `runc must carry the fix for ${f.cves.join(', ')}: ${f.fixedIn.join(', ')} (${f.source})`]),
    [m.runc.cgroupV2.id, 'warn', `cgroup v2 needs kernel ${m.runc.cgroupV2.minKernel}+, systemd ${m.runc.cgroupV2.recommendedSystemd}+ recommended (${m.runc.cgroupV2.source})`],
    [m.nvidia.kernelModules.id, 'prefer', `open kernel modules are the default from R${m.nvidia.kernelModules.openDefaultFrom} (${m.nvidia.kernelModules.source})`],
    ...m.nvidia.architectures.flatMap((a) => a.constraints.map((c) => [c.id, 'refuse', `${a.name}: ${[c.minBranch && `R${c.minBranch}+`, c.maxBranch && `up to R${c.maxBranch}`, c.modules && `${c.modules.join('/')} modules only`].filter(Boolean).join(', ')} (${c.source})`])),
    ...m.gpus.models.flatMap((g) => (g.minDriver ? [[g.minDriver.id, 'refuse', `${g.name} needs driver ${g.minDriver.version}+ (${g.minDriver.source})`]] : [])),
  ];
}

/** How many facts the matrix holds and how many are verified. */
export function factCounts(catalog: Catalog): { facts: number; verified: number } {
  let facts = 0;
  let verified = 0;
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      if ('source' in v && 'verified' in v) {
        facts++;
        if ((v as { verified: unknown }).verified === true) verified++;
      }
      Object.values(v).forEach(walk);
    }
  };
  walk(catalog.matrix);
  return { facts, verified };
}
