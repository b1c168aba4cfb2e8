// One picker per component: candidates from the catalog, refusals from rules.ts and the matrix, a decision that
// says which rules chose it and why. Pure; resolve.ts runs them in dependency order.
import type { SemVer } from 'semver';
import type { Decision, HostChange } from '../config/lock.ts';
import type { Conflict } from '../errors.ts';
import type { BranchEntry, Catalog, CniEntry, ContainerdEntry, FactRef, GpuEntry, KubeEntry, OsEntry, RuncEntry } from './catalog.ts';
import { choose, type Candidate } from './choose.ts';
import type { CniName, Pin, ResolveRequest } from './request.ts';
import { allowedModules, cniForKernel, cniForKube, containerdForKube, driverForGpu, runcFloorsFailed, runcForContainerd } from './rules.ts';
import { compareVersions } from './version.ts';

export type Picked<V> =
  | { ok: true; value: V; decision: Decision; warnings: string[]; hostChanges: HostChange[] }
  | { ok: false; conflicts: Conflict[] };

/** The oldest day on which any of these facts was read (what a decision's age is measured from). */
export function oldestRead(facts: readonly FactRef[]): string | undefined {
  let oldest: string | undefined;
  for (const f of facts) if (f.read && (oldest === undefined || f.read < oldest)) oldest = f.read;
  return oldest;
}

/** A decision, marked when it rests on a fact nobody confirmed from a primary source, dated by its oldest fact. */
export function decide(component: string, version: string, rules: string[], why: string, facts: FactRef[]): Decision {
  const factsRead = oldestRead(facts);
  const dated = factsRead ? { factsRead } : {};
  const unverified = facts.find((f) => !f.verified);
  if (!unverified) return { component, version, rules, why, ...dated };
  return { component, version, rules: [...rules, 'unverified-fact'], why: `${why} [unverified: ${unverified.source}]`, ...dated };
}

const pinned = (pin: Pin | undefined, line: string) => pin === undefined || pin.line === line;
const eolNote = (name: string, eol: string | undefined, past: boolean) =>
  past ? [`${name} is end-of-life since ${eol}; nothing supported fits the request`] : [];

/** The host change that boots an OS with the other cgroup hierarchy (kernel argument, then reboot). */
function cgroupHostChange(os: OsEntry, to: 'v1' | 'v2', rules: string[]): HostChange {
  const arg = `systemd.unified_cgroup_hierarchy=${to === 'v2' ? 1 : 0}`;
  return {
    id: `cgroup-${to}-kernel-arg`,
    description: `boot every node with cgroup ${to}: add ${arg} to the kernel command line, then reboot`,
    command:
      os.family === 'el'
        ? `grubby --update-kernel=ALL --args=${arg} && reboot`
        : `sed -i 's/^GRUB_CMDLINE_LINUX="/&${arg} /' /etc/default/grub && update-grub && reboot`,
    rules,
  };
}

/** cgroup hierarchy: the OS default unless the Kubernetes minor refuses it; switching is a stated host change. */
export function pickCgroup(catalog: Catalog, os: OsEntry, kube: KubeEntry, want: ResolveRequest['cgroup']): Picked<'v1' | 'v2'> {
  const applying = catalog.cgroupV1Rules.filter((r) => compareVersions(kube.minorVer, r.fromVer) >= 0);
  const refuse = applying.find((r) => r.effect === 'refuse');
  const v2 = catalog.matrix.runc.cgroupV2;
  if (want === 'v1' && refuse)
    return { ok: false, conflicts: [{ rules: [refuse.id], message: `${refuse.message}; --cgroup v1 was requested on ${os.id}` }] };
  const chosen = want ?? (os.cgroupDefault === 'v1' && refuse ? 'v2' : os.cgroupDefault);
  const switched = chosen !== os.cgroupDefault;
  const rules: string[] = want ? ['request'] : switched ? [refuse!.id] : ['cgroup-os-default'];
  const warnings: string[] = [];
  let why = want ? `requested with --cgroup ${want} (${os.name} boots ${os.cgroupDefault})` : `${os.name} boots cgroup ${os.cgroupDefault}`;
  if (chosen === 'v1') {
    for (const w of applying.filter((r) => r.effect === 'warn')) {
      rules.push(w.id);
      warnings.push(w.message);
    }
  } else {
    if (compareVersions(os.kernelVer, catalog.runcCgroupV2MinKernel) < 0)
      return { ok: false, conflicts: [{ rules: [v2.id], message: `cgroup v2 needs kernel ${v2.minKernel}+; ${os.id} runs ${os.kernel}` }] };
    if (os.systemd < v2.recommendedSystemd) {
      rules.push(v2.id);
      warnings.push(`${os.name} has systemd ${os.systemd}; runc recommends systemd ${v2.recommendedSystemd}+ for cgroup v2 with the systemd driver`);
    }
    if (switched && !want) why = `${refuse!.message}, so ${os.name} moves from cgroup v1 to v2`;
  }
  const hostChanges: HostChange[] = [];
  if (switched) {
    const id = `cgroup-${chosen}-kernel-arg`;
    rules.push(id);
    hostChanges.push(cgroupHostChange(os, chosen, [want ? 'request' : refuse!.id, id]));
  }
  return { ok: true, value: chosen, decision: decide('cgroup', chosen, rules, why, [os]), warnings, hostChanges };
}

/** Kubernetes candidates: the pinned minor, or every minor, supported and newest first. */
export function kubeCandidates(catalog: Catalog, pin: Pin | undefined): Candidate<KubeEntry>[] {
  return catalog.kubernetes
    .filter((k) => pinned(pin, k.minor))
    .map((k, i) => ({ item: k, version: pin?.exact ?? k.latestVer, eol: k.eol, rank: [i] }));
}

/** The Kubernetes decision for a chosen candidate. */
export function kubeDecision(c: Candidate<KubeEntry>, pin: Pin | undefined, endOfLife: boolean): { decision: Decision; warnings: string[] } {
  const k = c.item;
  const life = endOfLife ? `end-of-life since ${k.eol}` : `supported until ${k.eol}`;
  const why = pin
    ? `pinned to ${pin.text}${pin.exact ? '' : `, newest patch known ${k.latest}`} (${life})`
    : `newest minor supported at the resolve date (until ${k.eol}), newest patch known`;
  const rules = pin ? ['pin'] : ['prefer-supported', 'prefer-newest'];
  const warnings = endOfLife ? [`Kubernetes ${k.minor} is end-of-life since ${k.eol}`] : [];
  if (endOfLife) rules.push('end-of-life');
  return { decision: decide('kubernetes', c.version.version, rules, why, [k]), warnings };
}

/** containerd: recommended for the Kubernetes minor; supported, long-term, newest. */
export function pickContainerd(catalog: Catalog, kube: KubeEntry, cgroup: 'v1' | 'v2', pin: Pin | undefined, today: string): Picked<ContainerdEntry> {
  const candidates = catalog.containerd
    .filter((c) => pinned(pin, c.branch))
    .map((c, i) => ({ item: c, version: pin?.exact ?? c.latestVer, eol: c.eol, rank: [c.lts ? 0 : 1, i] }));
  const choice = choose(candidates, (c) => {
    const r = containerdForKube(c.version, c.item, kube);
    return r ? [r] : [];
  }, today);
  if (!choice.ok) return choice;
  const { item: c, version } = choice.chosen;
  const rules = pin ? ['pin', 'containerd-min-for-k8s'] : ['containerd-min-for-k8s', 'prefer-supported', 'prefer-long-term', 'prefer-newest'];
  const line = kube.containerd.min.find((m) => m.startsWith(`${c.branch}.`));
  const why = `${pin ? 'pinned' : `newest patch of the ${c.branch}${c.lts ? ' LTS' : ''} branch`} (supported until ${c.eol}); recommended for Kubernetes ${kube.minor} from ${line}`;
  const warnings = eolNote(`containerd ${c.branch}`, c.eol, choice.endOfLife);
  if (choice.endOfLife) rules.push('end-of-life');
  if (cgroup === 'v1' && c.cgroupV1Deprecated) {
    rules.push('containerd-cgroup-v1-deprecated');
    warnings.push(`containerd ${c.branch} deprecates cgroup v1`);
  }
  return { ok: true, value: c, decision: decide('containerd', version.version, rules, why, [c, kube.containerd]), warnings, hostChanges: [] };
}

/** CRI-O: the release of the Kubernetes minor. */
export function pickCrio(catalog: Catalog, kube: KubeEntry, pin: Pin | undefined): Picked<string> {
  const policy = catalog.matrix.crio.policy;
  const entry = catalog.crio.get(kube.minor);
  if (pin && pin.line !== kube.minor)
    return { ok: false, conflicts: [{ rules: [policy.id], message: `CRI-O ${pin.text} cannot serve Kubernetes ${kube.minor}: CRI-O's minor must equal the Kubernetes minor` }] };
  if (!entry) return { ok: false, conflicts: [{ rules: ['crio-needs-k8s-minor'], message: `the matrix knows no CRI-O ${kube.minor}` }] };
  const version = pin?.exact?.version ?? entry.latest;
  const why = `CRI-O follows the Kubernetes minor ${kube.minor}; ${pin ? 'pinned' : 'newest patch known'}`;
  return { ok: true, value: version, decision: decide('cri-o', version, [pin ? 'pin' : 'prefer-newest', policy.id], why, [entry, policy]), warnings: [], hostChanges: [] };
}

/** runc: every security floor met, not older than containerd's tested runc; that runc line, newest patch. */
export function pickRunc(catalog: Catalog, containerd: ContainerdEntry | null, pin: Pin | undefined, today: string, accepted: readonly string[] = []): Picked<RuncEntry> {
  const tested = containerd?.testedRuncVer;
  const candidates = catalog.runc
    .filter((r) => pinned(pin, r.branch))
    .map((r, i) => ({
      item: r,
      version: pin?.exact ?? r.latestVer,
      eol: r.eol,
      rank: [tested && r.latestVer.major === tested.major && r.latestVer.minor === tested.minor ? 0 : 1, i],
    }));
  const refusals = (version: SemVer) => {
    const out = runcFloorsFailed(version, catalog.runcFloors);
    const r = containerd ? runcForContainerd(version, containerd) : null;
    return r ? [...out, r] : out;
  };
  const isAccepted = (c: Conflict) => c.rules.length > 0 && c.rules.every((id) => accepted.includes(id));
  const choice = choose(candidates, (c) => refusals(c.version).filter((x) => !isAccepted(x)), today);
  if (!choice.ok) return choice;
  const { item: r, version } = choice.chosen;
  const acceptedNotes = refusals(version).filter(isAccepted).map((c) => `accepted risk (--accept-risk ${c.rules.join(',')}): ${c.message}`);
  const floors = catalog.runcFloors.map((f) => f.id);
  const rules = [pin ? 'pin' : containerd ? 'prefer-tested-runc-line' : 'prefer-newest', ...floors];
  if (containerd) rules.push('runc-min-for-containerd');
  const why = `${pin ? 'pinned' : containerd ? `the runc line containerd ${containerd.latest} was tested with (${containerd.testedRunc}), newest patch` : 'newest runc known'}; carries the fixes for ${catalog.runcFixedCves}`;
  if (choice.endOfLife) rules.push('end-of-life');
  if (acceptedNotes.length > 0) rules.push('accepted-risk');
  return { ok: true, value: r, decision: decide('runc', version.version, rules, acceptedNotes.length > 0 ? `${why.split(';')[0]}; ${acceptedNotes.join('; ')}` : why, [r]), warnings: [...eolNote(`runc ${r.branch}`, r.eol, choice.endOfLife), ...acceptedNotes], hostChanges: [] };
}

export interface DriverPick {
  branch: BranchEntry;
  version: string;
  kernelModule: 'open' | 'proprietary';
}

/** NVIDIA driver: a branch the GPU architecture supports; supported, LTSB first, newest; module flavour from the rules. */
export function pickDriver(catalog: Catalog, gpu: GpuEntry, pin: Pin | undefined, today: string): Picked<DriverPick> {
  const arch = catalog.architectures.get(gpu.architecture)!;
  const allowed = allowedModules(arch);
  const typeRank = { ltsb: 0, pb: 1, nfb: 2 } as const;
  const candidates = catalog.branches
    .filter((b) => pinned(pin, b.branch))
    .map((b, i) => ({ item: b, version: pin?.exact ?? b.latestVer, eol: b.eol, rank: [typeRank[b.type], i] }));
  const choice = choose(candidates, (c) => driverForGpu(c.version, c.item, arch, gpu), today);
  if (!choice.ok) {
    const tried = pin ? (pin.exact ? pin.text : `R${pin.line}`) : candidates.map((c) => `R${c.item.branch}`).join(', ');
    return { ok: false, conflicts: choice.conflicts.map((c) => ({ ...c, message: `${c.message}; ${pin ? 'pinned' : 'the matrix carries'} ${tried}` })) };
  }
  const { item: b } = choice.chosen;
  const version = pin?.exact ? pin.text : b.latest;
  const km = catalog.matrix.nvidia.kernelModules;
  const openDefault = b.branchNum >= Number(km.openDefaultFrom);
  const kernelModule = allowed.modules.length === 1 ? allowed.modules[0]! : openDefault ? 'open' : 'proprietary';
  const constraintIds = arch.constraints.map((c) => c.id).filter((id) => !allowed.rules.includes(id));
  const rules = [pin ? 'pin' : 'prefer-supported', ...(pin ? [] : ['prefer-long-term', 'prefer-newest']), ...constraintIds, ...allowed.rules, 'nvidia-module-flavour'];
  if (gpu.minDriver) rules.push(gpu.minDriver.id);
  if (allowed.modules.length > 1) rules.push(km.id);
  const why = `${pin ? 'pinned' : `R${b.branch} ${b.type.toUpperCase()}, supported until ${b.eol}`}; serves ${arch.name} (${gpu.id}); ${kernelModule} kernel modules${allowed.modules.length === 1 ? ` (the only kind ${arch.name} supports)` : openDefault ? ` (default from R${km.openDefaultFrom})` : ` (R${b.branch} predates the open default)`}`;
  if (choice.endOfLife) rules.push('end-of-life');
  return {
    ok: true,
    value: { branch: b, version, kernelModule },
    decision: decide('nvidia-driver', version, rules, why, [b, gpu, ...arch.constraints]),
    warnings: eolNote(`NVIDIA driver R${b.branch}`, b.eol, choice.endOfLife),
    hostChanges: [
      {
        id: 'nvidia-blacklist-nouveau',
        description: 'keep nouveau from loading on GPU nodes (blacklist it, rebuild the initramfs, reboot) before installing the NVIDIA driver',
        command:
          "printf 'blacklist nouveau\\noptions nouveau modeset=0\\n' > /etc/modprobe.d/blacklist-nouveau.conf && { if command -v dracut >/dev/null; then dracut -f; else update-initramfs -u; fi; } && reboot",
        rules: ['nvidia-blacklist-nouveau'],
      },
    ],
  };
}

/** CNI: the requested one, or Calico, Cilium, Flannel in that order; tested with the Kubernetes minor, kernel new enough. */
export function pickCni(catalog: Catalog, os: OsEntry, kube: KubeEntry, kubeVer: SemVer, request: ResolveRequest, today: string): Picked<CniEntry> {
  const names: CniName[] = request.cni ? [request.cni] : ['calico', 'cilium', 'flannel'];
  const conflicts: Conflict[] = [];
  for (const name of names) {
    const pin = request.pins[name];
    const candidates = (catalog.cni.get(name) ?? [])
      .filter((c) => pinned(pin, c.minor))
      .map((c, i) => ({ item: c, version: pin?.exact ?? c.latestVer, rank: [c.kubeMax && compareVersions(kube.minorVer, c.kubeMax) > 0 ? 1 : 0, i] }));
    const choice = choose(candidates, (c) => [cniForKube(c.item, kubeVer), cniForKernel(c.item, os)].filter((x) => x !== null), today);
    if (!choice.ok) {
      conflicts.push(...choice.conflicts);
      continue;
    }
    const { item: c, version } = choice.chosen;
    const rules = [pin ? 'pin' : request.cni ? 'request' : 'cni-default-order', 'cni-k8s-min-tested', 'cni-kernel-min', 'prefer-newest'];
    const warnings: string[] = [];
    const tested = c.kubernetes ? `tested with Kubernetes ${c.kubernetes.min}-${c.kubernetes.max}` : 'no documented Kubernetes matrix';
    if (c.kubeMax && compareVersions(kube.minorVer, c.kubeMax) > 0) {
      rules.push('cni-k8s-newer-than-tested');
      warnings.push(`${name} ${c.minor} is tested up to Kubernetes ${c.kubernetes!.max}; ${kube.minor} relies on Kubernetes backward compatibility`);
    }
    if (!c.kubernetes) warnings.push(`${name} publishes no Kubernetes compatibility matrix; ${name} ${c.latest} with Kubernetes ${kube.minor} is untested by the matrix`);
    const policy = catalog.matrix.cni.policies.find((p) => p.cni === name && !p.networkPolicy);
    if (policy) {
      rules.push('cni-no-network-policy');
      warnings.push(`${name} does not enforce NetworkPolicy`);
    }
    const skipped = conflicts.length > 0 ? `; ${conflicts.map((x) => x.message).join('; ')}` : '';
    const kernel = `kernel ${c.kernel.min}+${c.kernel.elMin ? ` or Enterprise Linux ${c.kernel.elMin}+` : ''}`;
    const why = `${pin ? 'pinned' : request.cni ? 'requested' : `first CNI in the default order that fits`}, ${tested}, ${kernel}${skipped}`;
    return { ok: true, value: c, decision: decide(name, version.version, rules, why, [c, c.kernel, ...(c.kubernetes ? [c.kubernetes] : [])]), warnings, hostChanges: [] };
  }
  return { ok: false, conflicts };
}
