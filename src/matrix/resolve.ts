// resolve(catalog, request, now): the one consistent stack an expert would pick, or the conflicting rules.
// Pure: no I/O, the date comes in as `now` (end-of-life rules depend on it).
import type { Decision, HostChange, Stack } from '../config/lock.ts';
import { InternalError, type Conflict } from '../errors.ts';
import type { Catalog, CniEntry, KubeEntry, OsEntry } from './catalog.ts';
import type { Candidate } from './choose.ts';
import { decide, kubeCandidates, kubeDecision, pickCgroup, pickCni, pickContainerd, pickCrio, pickDriver, pickRunc, type DriverPick, type Picked } from './pickers.ts';
import type { ResolveRequest } from './request.ts';
import { isPast } from './version.ts';

export interface Resolved {
  ok: true;
  request: ResolveRequest;
  gpu: { model: string; architecture: string } | null;
  stack: Stack;
  /** The matrix entries behind the stack, for images and the lock. */
  kube: KubeEntry;
  cni: CniEntry;
  decisions: Decision[];
  hostChanges: HostChange[];
  warnings: string[];
}
export interface Refused {
  ok: false;
  request: ResolveRequest;
  conflicts: Conflict[];
}
export type Resolution = Resolved | Refused;

/** Resolve one request against the precomputed matrix. */
export function resolve(catalog: Catalog, request: ResolveRequest, now: Date): Resolution {
  const os = catalog.os.get(request.os);
  if (!os) throw new InternalError(`resolve got an unchecked OS ${request.os}; run parseRequest first`);
  const gpu = request.gpu ? catalog.gpus.get(request.gpu) : undefined;
  if (request.gpu && !gpu) throw new InternalError(`resolve got an unchecked GPU ${request.gpu}`);
  const driver = gpu ? pickDriver(catalog, gpu, request.pins['nvidia-driver'], now) : null;
  if (driver && !driver.ok) return { ok: false, request, conflicts: driver.conflicts };

  const kubes = kubeCandidates(catalog, request.pins.kubernetes).sort(
    (a, b) => Number(isPast(a.eol, now)) - Number(isPast(b.eol, now)) || a.rank[0]! - b.rank[0]!,
  );
  const conflicts = new Map<string, Conflict>();
  for (const kube of kubes) {
    const result = stackFor(catalog, os, kube, request, driver, now);
    if (result.ok) return result;
    for (const c of result.conflicts) if (!conflicts.has(c.message)) conflicts.set(c.message, c);
  }
  return { ok: false, request, conflicts: [...conflicts.values()] };
}

function stackFor(
  catalog: Catalog,
  os: OsEntry,
  kubeCandidate: Candidate<KubeEntry>,
  request: ResolveRequest,
  driver: Picked<DriverPick> | null,
  now: Date,
): Resolution {
  const kube = kubeCandidate.item;
  const fail = (conflicts: Conflict[]): Refused => ({ ok: false, request, conflicts });
  const cgroup = pickCgroup(catalog, os, kube, request.cgroup);
  if (!cgroup.ok) return fail(cgroup.conflicts);
  let containerd = null;
  let cri: Picked<unknown>;
  if (request.cri === 'containerd') {
    const picked = pickContainerd(catalog, kube, cgroup.value, request.pins.containerd, now);
    if (!picked.ok) return fail(picked.conflicts);
    containerd = picked.value;
    cri = picked;
  } else {
    cri = pickCrio(catalog, kube, request.pins['cri-o']);
    if (!cri.ok) return fail(cri.conflicts);
  }
  const runc = pickRunc(catalog, containerd, request.pins.runc, now);
  if (!runc.ok) return fail(runc.conflicts);
  const cni = pickCni(catalog, os, kube, kubeCandidate.version, request, now);
  if (!cni.ok) return fail(cni.conflicts);

  const kubePart = kubeDecision(kubeCandidate, request.pins.kubernetes, isPast(kube.eol, now));
  const osDecision = decide('os', os.id, ['request'], `${os.name}: kernel ${os.kernel}, systemd ${os.systemd}, boots cgroup ${os.cgroupDefault}`, [os]);
  const picks = [cgroup, cri, runc, ...(driver?.ok ? [driver] : []), cni] as const;
  const decisions = [osDecision, cgroup.decision, kubePart.decision, cri.decision, runc.decision, ...(driver?.ok ? [driver.decision] : []), cni.decision];
  const warnings = [...(isPast(os.eol, now) ? [`${os.name} is end-of-life since ${os.eol}`] : []), ...kubePart.warnings, ...picks.flatMap((p) => p.warnings)];
  const unverified = decisions.filter((d) => d.rules.includes('unverified-fact')).map((d) => d.component);
  if (unverified.length > 0) warnings.push(`these choices rest on matrix facts not yet confirmed from a primary source: ${unverified.join(', ')}`);
  const criDecision = cri.decision;
  return {
    ok: true,
    request,
    gpu: driver?.ok && request.gpu ? { model: request.gpu, architecture: catalog.gpus.get(request.gpu)!.architecture } : null,
    stack: {
      os: { id: os.distro, version: os.version, family: os.family, arch: request.arch },
      kernel: os.kernel,
      cgroup: cgroup.value,
      kubernetes: kubeCandidate.version.version,
      cri: { name: request.cri, version: criDecision.version },
      runc: runc.decision.version,
      nvidiaDriver: driver?.ok ? { branch: driver.value.branch.branch, version: driver.value.version, kernelModule: driver.value.kernelModule } : null,
      cni: { name: cni.value.name, version: cni.decision.version },
    },
    kube,
    cni: cni.value,
    decisions,
    hostChanges: picks.flatMap((p) => p.hostChanges),
    warnings,
  };
}
