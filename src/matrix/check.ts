// Cross-file checks of the matrix that a schema cannot express: dangling references, duplicate ids, sources.
// Pure: takes the loaded matrix, returns every problem found. Run by `ferry matrix check` and by the tests.
import type { InputIssue } from '../errors.ts';
import { CODE_RULES } from './rules.ts';
import { isPrimarySource } from './sources.ts';
import type { Matrix } from './schema.ts';
import { parseVersion } from './version.ts';

/** Every reference between matrix files resolves, every id is unique, every fact names a primary source and the day it was read. */
export function checkMatrix(matrix: Matrix, files: Record<keyof Matrix, string>): InputIssue[] {
  const issues: InputIssue[] = [];
  const at = (part: keyof Matrix, field: string, message: string) => issues.push({ file: files[part], field, message });
  const unique = (part: keyof Matrix, field: string, ids: string[], what: string) => {
    const seen = new Set<string>();
    ids.forEach((id, i) => {
      if (seen.has(id)) at(part, `${field}[${i}]`, `duplicate ${what} ${id}`);
      seen.add(id);
    });
  };

  const distros = new Set(matrix.os.distros.map((d) => d.id));
  unique('os', 'distros', matrix.os.distros.map((d) => d.id), 'distro');
  unique('os', 'releases', matrix.os.releases.flatMap((r) => r.distros.map((d) => `${d}-${r.version}`)), 'OS release');
  matrix.os.releases.forEach((r, i) => {
    r.distros.forEach((d, j) => {
      if (!distros.has(d)) at('os', `releases[${i}].distros[${j}]`, `unknown distro ${d} (known: ${[...distros].join(', ')})`);
      if (!r.lifecycle.some((l) => l.distro === d)) at('os', `releases[${i}].lifecycle`, `no lifecycle (end of support) for ${d} ${r.version}`);
    });
    r.lifecycle.forEach((l, j) => {
      if (!r.distros.includes(l.distro)) at('os', `releases[${i}].lifecycle[${j}].distro`, `${l.distro} is not one of this release's distros (${r.distros.join(', ')})`);
    });
  });
  unique('os', 'distros', matrix.os.distros.flatMap((d) => [d.id, ...(d.osReleaseIds ?? [])]).concat(matrix.os.refused.map((r) => r.id)), 'os-release ID');

  const branches = new Set(matrix.containerd.releases.map((c) => c.branch));
  unique('kubernetes', 'releases', matrix.kubernetes.releases.map((k) => k.minor), 'Kubernetes minor');
  unique('containerd', 'releases', matrix.containerd.releases.map((c) => c.branch), 'containerd branch');
  matrix.kubernetes.releases.forEach((k, i) => {
    if (!k.latest.startsWith(`${k.minor}.`)) at('kubernetes', `releases[${i}].latest`, `${k.latest} is not a ${k.minor} patch`);
    k.containerd.min.forEach((m, j) => {
      const v = parseVersion(m);
      if (v && !branches.has(`${v.major}.${v.minor}`))
        at('kubernetes', `releases[${i}].containerd.min[${j}]`, `containerd ${m}: no branch ${v.major}.${v.minor} in the containerd matrix`);
    });
    const newestCrio = matrix.crio.releases.map((c) => parseVersion(c.minor)).reduce((a, b) => (a && b && a.compare(b) >= 0 ? a : b), null);
    const kv = parseVersion(k.minor);
    // A Kubernetes minor newer than every CRI-O known is fine (CRI-O ships after Kubernetes); a gap is not.
    if (kv && newestCrio && kv.compare(newestCrio) <= 0 && !matrix.crio.releases.some((c) => c.minor === k.minor))
      at('crio', 'releases', `no CRI-O ${k.minor} for Kubernetes ${k.minor} (CRI-O minors follow Kubernetes)`);
  });

  const runcBranches = new Set(matrix.runc.releases.map((r) => r.branch));
  matrix.containerd.releases.forEach((c, i) => {
    if (!c.latest.startsWith(`${c.branch}.`)) at('containerd', `releases[${i}].latest`, `${c.latest} is not a ${c.branch} patch`);
    const v = parseVersion(c.testedRunc);
    if (v && !runcBranches.has(`${v.major}.${v.minor}`))
      at('containerd', `releases[${i}].testedRunc`, `runc ${c.testedRunc}: no runc branch ${v.major}.${v.minor} in the runc matrix`);
  });
  unique('runc', 'releases', matrix.runc.releases.map((r) => r.branch), 'runc branch');

  const archs = new Set(matrix.nvidia.architectures.map((a) => a.id));
  unique('nvidia', 'branches', matrix.nvidia.branches.map((b) => b.branch), 'driver branch');
  matrix.nvidia.branches.forEach((b, i) => {
    if (!b.latest.startsWith(`${b.branch}.`)) at('nvidia', `branches[${i}].latest`, `${b.latest} is not an R${b.branch} driver`);
  });
  unique('gpus', 'models', matrix.gpus.models.map((g) => g.id), 'GPU model');
  matrix.gpus.models.forEach((g, i) => {
    if (!archs.has(g.architecture))
      at('gpus', `models[${i}].architecture`, `unknown architecture ${g.architecture} (known: ${[...archs].join(', ')})`);
  });
  matrix.nvidia.architectures.forEach((a, i) =>
    a.constraints.forEach((c, j) => {
      if (!c.minBranch && !c.maxBranch && !c.modules)
        at('nvidia', `architectures[${i}].constraints[${j}]`, 'a constraint needs minBranch, maxBranch or modules');
    }),
  );

  const cniNames = new Set(matrix.cni.releases.map((r) => r.name));
  unique('cni', 'releases', matrix.cni.releases.map((r) => `${r.name}-${r.minor}`), 'CNI release');
  matrix.cni.releases.forEach((r, i) => {
    if (!r.latest.startsWith(`${r.minor}.`)) at('cni', `releases[${i}].latest`, `${r.latest} is not a ${r.name} ${r.minor} patch`);
  });
  matrix.cni.policies.forEach((p, i) => {
    if (!cniNames.has(p.cni)) at('cni', `policies[${i}].cni`, `no ${p.cni} release in the CNI matrix`);
  });

  const dataRules: [keyof Matrix, string, string][] = [
    ...matrix.kubernetes.cgroupV1Rules.map((r, i): [keyof Matrix, string, string] => ['kubernetes', `cgroupV1Rules[${i}].id`, r.id]),
    ['crio', 'policy.id', matrix.crio.policy.id],
    ...matrix.runc.securityFloors.map((r, i): [keyof Matrix, string, string] => ['runc', `securityFloors[${i}].id`, r.id]),
    ['runc', 'cgroupV2.id', matrix.runc.cgroupV2.id],
    ['nvidia', 'kernelModules.id', matrix.nvidia.kernelModules.id],
    ...matrix.nvidia.architectures.flatMap((a, i) =>
      a.constraints.map((c, j): [keyof Matrix, string, string] => ['nvidia', `architectures[${i}].constraints[${j}].id`, c.id]),
    ),
    ...matrix.gpus.models.flatMap((g, i): [keyof Matrix, string, string][] =>
      g.minDriver ? [['gpus', `models[${i}].minDriver.id`, g.minDriver.id]] : [],
    ),
  ];
  const ruleSeen = new Set<string>(Object.keys(CODE_RULES));
  for (const [part, field, id] of dataRules) {
    if (ruleSeen.has(id)) at(part, field, `rule id ${id} is used twice`);
    ruleSeen.add(id);
  }

  for (const { part, path, fact } of factsOf(matrix)) {
    const at2 = (field: string, message: string) => at(part, path ? `${path}.${field}` : field, message);
    if (!isPrimarySource(fact.source))
      at2('source', `"${fact.source}" is not a primary source (the project's, vendor's or distribution's own page, repository or index; see src/matrix/sources.ts); a secondary pointer belongs in note`);
    if (!fact.read) at2('read', 'no date the fact was read from its source (read: "YYYY-MM-DD")');
  }
  return issues;
}

export interface FactAt {
  part: keyof Matrix;
  /** Field path inside the file, e.g. `releases[3].containerd`. */
  path: string;
  fact: { source: string; read?: string | undefined; verified: boolean };
}

/** Every fact in the matrix (an object with `source` and `verified`) with where it sits. */
export function factsOf(matrix: Matrix): FactAt[] {
  const out: FactAt[] = [];
  const walk = (part: keyof Matrix, value: unknown, path: string) => {
    if (Array.isArray(value)) value.forEach((v, i) => walk(part, v, `${path}[${i}]`));
    else if (value && typeof value === 'object') {
      const v = value as Record<string, unknown>;
      if (typeof v.source === 'string' && typeof v.verified === 'boolean')
        out.push({ part, path, fact: { source: v.source, read: typeof v.read === 'string' ? v.read : undefined, verified: v.verified } });
      for (const [k, child] of Object.entries(v)) if (child && typeof child === 'object') walk(part, child, path ? `${path}.${k}` : k);
    }
  };
  for (const part of Object.keys(matrix) as (keyof Matrix)[]) walk(part, matrix[part], '');
  return out;
}

/** The oldest and newest days on which the matrix's facts were read (null when none carries a date). */
export function readSpan(matrix: Matrix): { oldest: string; newest: string } | null {
  const days = factsOf(matrix).flatMap((f) => (f.fact.read ? [f.fact.read] : [])).sort();
  return days.length > 0 ? { oldest: days[0]!, newest: days[days.length - 1]! } : null;
}
