// The resolver's rules as small named predicates. Rules that are facts of one component live in the matrix
// with their own ids (e.g. `blackwell-needs-open-modules`, `k8s-1.35-refuses-cgroup-v1`); these are the ones
// that join two components, plus the preferences. Every decision and refusal cites rule ids from here or the matrix.
import type { SemVer } from 'semver';
import type { Conflict } from '../errors.ts';
import type { ArchEntry, BranchEntry, CniEntry, ContainerdEntry, FloorEntry, GpuEntry, KubeEntry, OsEntry } from './catalog.ts';
import { compareVersions, minorOf, sameLineAtLeast } from './version.ts';

export type RuleEffect = 'refuse' | 'warn' | 'prefer' | 'host-change';

/** Rule ids defined in code, with what each does; the matrix adds its own (see `ferry matrix show rules`). */
export const CODE_RULES = {
  'containerd-min-for-k8s': { effect: 'refuse', description: 'containerd must be a release containerd recommends for the Kubernetes minor, at or above its minimum patch' },
  'runc-min-for-containerd': { effect: 'refuse', description: 'runc must be at least the version the containerd release was tested with (containerd docs/RUNC.md)' },
  'cni-k8s-min-tested': { effect: 'refuse', description: 'a CNI release does not support Kubernetes minors older than its tested range' },
  'cni-k8s-newer-than-tested': { effect: 'warn', description: 'a Kubernetes minor newer than the CNI tested range relies on Kubernetes backward compatibility' },
  'cni-kernel-min': { effect: 'refuse', description: 'the OS kernel must meet the CNI release minimum (or its Enterprise Linux equivalent)' },
  'containerd-cgroup-v1-deprecated': { effect: 'warn', description: 'containerd 2.2 and newer deprecate cgroup v1' },
  'kubeadm-images-known': { effect: 'refuse', description: 'the matrix must know the images kubeadm of the Kubernetes minor deploys (etcd, CoreDNS, pause)' },
  'facts-older-than-max-age': { effect: 'warn', description: 'a decision rests on matrix facts read longer ago than --max-fact-age days (run `ferry matrix refresh`)' },
  'crio-needs-k8s-minor': { effect: 'refuse', description: 'the matrix must know a CRI-O release of the Kubernetes minor' },
  'cni-no-network-policy': { effect: 'warn', description: 'the CNI does not enforce NetworkPolicy' },
  'cni-default-order': { effect: 'prefer', description: 'without --cni, take Calico, then Cilium, then Flannel, the first with a consistent release' },
  'cgroup-os-default': { effect: 'prefer', description: 'keep the cgroup hierarchy the OS boots with unless a rule needs the other' },
  'cgroup-v2-kernel-arg': { effect: 'host-change', description: 'an OS that boots cgroup v1 moves to v2 with systemd.unified_cgroup_hierarchy=1 on the kernel command line' },
  'cgroup-v1-kernel-arg': { effect: 'host-change', description: 'an OS that boots cgroup v2 moves to v1 (only on request) with systemd.unified_cgroup_hierarchy=0' },
  'nvidia-blacklist-nouveau': { effect: 'host-change', description: 'the nouveau driver must not be loaded where the NVIDIA driver is installed' },
  'nvidia-module-flavour': { effect: 'prefer', description: 'open kernel modules where the GPU and branch allow and the branch defaults to them, else proprietary' },
  'prefer-supported': { effect: 'prefer', description: 'prefer releases that are not end-of-life at the resolve date' },
  'prefer-long-term': { effect: 'prefer', description: 'prefer long-term branches (containerd LTS, NVIDIA LTSB) over shorter-lived ones' },
  'prefer-newest': { effect: 'prefer', description: 'prefer the newest minor or branch, at the newest patch the matrix knows' },
  'prefer-tested-runc-line': { effect: 'prefer', description: 'prefer the runc minor containerd was tested with, at its newest patch' },
  'end-of-life': { effect: 'warn', description: 'a chosen component is end-of-life at the resolve date (nothing supported fits)' },
  'unverified-fact': { effect: 'warn', description: 'a decision rests on a matrix fact not yet confirmed from a primary source' },
  'accepted-risk': { effect: 'warn', description: 'the operator accepted a refusal with --accept-risk (runc security floors and tested line only)' },
  pin: { effect: 'prefer', description: 'the operator forced this choice with --pin (or --k8s)' },
  request: { effect: 'prefer', description: 'taken from the request (--os, --gpu, --cri, --cni, --cgroup)' },
} as const satisfies Record<string, { effect: RuleEffect; description: string }>;
export type CodeRuleId = keyof typeof CODE_RULES;

/** containerd-min-for-k8s: is this containerd version one containerd recommends for the Kubernetes minor? */
export function containerdForKube(version: SemVer, c: ContainerdEntry, k: KubeEntry): Conflict | null {
  const line = k.containerdMinVer.find((m) => m.major === version.major && m.minor === version.minor);
  if (line && sameLineAtLeast(version, line)) return null;
  const listed = k.containerd.min.map((m) => `${m}+`).join(', ') || 'none yet';
  const what = line ? `containerd ${version.version} is older than ${line.version}` : `containerd ${c.branch} is not recommended`;
  return { rules: ['containerd-min-for-k8s'], message: `${what} for Kubernetes ${k.minor} (recommended: ${listed})` };
}

/** runc-min-for-containerd: runc at least the version containerd was tested with. */
export function runcForContainerd(runc: SemVer, c: ContainerdEntry): Conflict | null {
  if (compareVersions(runc, c.testedRuncVer) >= 0) return null;
  return {
    rules: ['runc-min-for-containerd'],
    message: `runc ${runc.version} is older than ${c.testedRunc}, the runc containerd ${c.latest} was tested with`,
  };
}

/** The runc security floors a version fails: fixed in its own minor at or above the fix, or in a newer minor. */
export function runcFloorsFailed(runc: SemVer, floors: readonly FloorEntry[]): Conflict[] {
  const out: Conflict[] = [];
  for (const f of floors) {
    const sameLine = f.fixedInVer.find((v) => v.major === runc.major && v.minor === runc.minor);
    const newest = f.fixedInVer.reduce((a, b) => (compareVersions(a, b) >= 0 ? a : b));
    const fixed = sameLine
      ? compareVersions(runc, sameLine) >= 0
      : runc.major > newest.major || (runc.major === newest.major && runc.minor > newest.minor);
    if (!fixed)
      out.push({
        rules: [f.id],
        message: `runc ${runc.version} lacks the fix for ${f.cves.join(', ')} (fixed in ${f.fixedIn.join(', ')})`,
      });
  }
  return out;
}

/** The architecture constraints and GPU minimum a driver version fails. */
export function driverForGpu(version: SemVer, b: BranchEntry, arch: ArchEntry, gpu: GpuEntry): Conflict[] {
  const out: Conflict[] = [];
  for (const c of arch.constraints) {
    if (c.minBranch && b.branchNum < Number(c.minBranch))
      out.push({ rules: [c.id], message: `${arch.name} (${gpu.id}) needs driver branch R${c.minBranch} or newer` });
    if (c.maxBranch && b.branchNum > Number(c.maxBranch))
      out.push({ rules: [c.id], message: `${arch.name} (${gpu.id}) is last supported by driver branch R${c.maxBranch}` });
  }
  if (gpu.minDriver && gpu.minDriverVer && compareVersions(version, gpu.minDriverVer) < 0)
    out.push({ rules: [gpu.minDriver.id], message: `${gpu.name} needs driver ${gpu.minDriver.version} or newer, not ${version.version}` });
  return out;
}

/** The kernel-module flavours an architecture allows, with the rule ids that narrowed them. */
export function allowedModules(arch: ArchEntry): { modules: ('open' | 'proprietary')[]; rules: string[] } {
  let modules: ('open' | 'proprietary')[] = ['open', 'proprietary'];
  const rules: string[] = [];
  for (const c of arch.constraints)
    if (c.modules) {
      modules = modules.filter((m) => c.modules!.includes(m));
      rules.push(c.id);
    }
  return { modules, rules };
}

/** cni-k8s-min-tested: a CNI release is refused for Kubernetes older than its tested range. */
export function cniForKube(cni: CniEntry, kube: SemVer): Conflict | null {
  if (!cni.kubeMin || compareVersions(kube, cni.kubeMin) >= 0) return null;
  return {
    rules: ['cni-k8s-min-tested'],
    message: `${cni.name} ${cni.minor} is tested with Kubernetes ${cni.kubernetes!.min}-${cni.kubernetes!.max}, not ${minorOf(kube)}`,
  };
}

/** cni-kernel-min: the OS kernel meets the CNI's minimum, or the OS is an Enterprise Linux release it names. */
export function cniForKernel(cni: CniEntry, os: OsEntry): Conflict | null {
  if (compareVersions(os.kernelVer, cni.kernelMinVer) >= 0) return null;
  if (os.family === 'el' && cni.elMinVer && compareVersions(os.versionVer, cni.elMinVer) >= 0) return null;
  const el = cni.kernel.elMin ? ` or Enterprise Linux ${cni.kernel.elMin}+` : '';
  return {
    rules: ['cni-kernel-min'],
    message: `${cni.name} ${cni.minor} needs kernel ${cni.kernel.min}+${el}; ${os.id} runs ${os.kernel}`,
  };
}
