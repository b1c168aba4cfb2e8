// KubeletConfiguration (kubelet.config.k8s.io/v1beta1): systemd cgroup driver, image GC thresholds with headroom
// below the eviction threshold, explicit evictionHard, failCgroupV1 by the node's cgroup version. Pure data: the
// kubeadm renderer embeds it as one document of its config.
import { UserError } from '../errors.ts';

export interface KubeletInput {
  /** Kubernetes version, e.g. 1.33.4 (ferry renders for 1.31 and later: kubeadm v1beta4). */
  kubernetesVersion: string;
  /** The node's cgroup version (lock stack.cgroup). */
  cgroup: 'v1' | 'v2';
  cri: 'containerd' | 'cri-o';
  /** Image GC starts at `high` percent disk use and frees down to `low`. Default 80 / 70. */
  imageGC?: { highThresholdPercent: number; lowThresholdPercent: number };
  /** Hard eviction, imagefs.available in percent. Default 15 (Kubernetes' default). */
  imagefsAvailablePercent?: number;
}

/** Disk use points between the GC high threshold and the imagefs eviction threshold: GC must act first. */
export const GC_HEADROOM_PERCENT = 5;

/** The CRI socket kubelet and kubeadm talk to. */
export function criSocket(cri: KubeletInput['cri']): string {
  return cri === 'containerd' ? 'unix:///run/containerd/containerd.sock' : 'unix:///var/run/crio/crio.sock';
}

/** The minor of a Kubernetes version (1.33.4 / v1.33.4 → 33); refuses versions before 1.31, which lack kubeadm v1beta4. */
export function kubeMinor(version: string): number {
  const m = /^v?1\.(\d+)\.\d+$/.exec(version);
  if (!m) throw new UserError(`Kubernetes version must look like 1.33.4, got ${JSON.stringify(version)}`);
  const minor = Number(m[1]);
  if (minor < 31) throw new UserError(`Kubernetes ${version} is older than 1.31: kubeadm config v1beta4 needs 1.31 or later`);
  return minor;
}

/** The KubeletConfiguration object for every node of the cluster. */
export function kubeletConfiguration(input: KubeletInput): Record<string, unknown> {
  kubeMinor(input.kubernetesVersion);
  const { highThresholdPercent: high, lowThresholdPercent: low } = input.imageGC ?? { highThresholdPercent: 80, lowThresholdPercent: 70 };
  const imagefs = input.imagefsAvailablePercent ?? 15;
  if (!(Number.isInteger(low) && Number.isInteger(high) && low > 0 && low < high && high < 100))
    throw new UserError(`image GC thresholds need 0 < low < high < 100, got low ${low} high ${high}`);
  if (high > 100 - imagefs - GC_HEADROOM_PERCENT)
    throw new UserError(
      `image GC high threshold ${high}% leaves no headroom before eviction at imagefs.available<${imagefs}%`,
      { hint: `use imageGC.highThresholdPercent <= ${100 - imagefs - GC_HEADROOM_PERCENT}` },
    );
  // failCgroupV1 exists from 1.31 (KEP-4569); from 1.35 it defaults to true (KEP-5573), so a cgroup v1 node must say
  // false to start at all, and a v2 node says true so a reboot into v1 fails loudly instead of limping on.
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    cgroupDriver: 'systemd',
    containerRuntimeEndpoint: criSocket(input.cri),
    failCgroupV1: input.cgroup === 'v2',
    imageGCHighThresholdPercent: high,
    imageGCLowThresholdPercent: low,
    evictionHard: {
      'memory.available': '100Mi',
      'nodefs.available': '10%',
      'nodefs.inodesFree': '5%',
      'imagefs.available': `${imagefs}%`,
    },
  };
}
