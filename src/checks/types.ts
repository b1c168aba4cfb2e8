// What a check is and what it returns: findings (pass | warn | fail, message, remedy) about a host, a pair or the cluster.
import type { Facts } from '../facts/types.ts';
import type { Role, SelinuxPolicy } from '../config/inventory.ts';
import type { ProbeResults } from '../probes/types.ts';

export type Status = 'pass' | 'warn' | 'fail';

export interface Finding {
  check: string;
  /** The host the finding is about; absent for pair and cluster findings. */
  host?: string;
  /** Directed pair for pairwise findings: `from` sends or connects, `to` receives or listens. */
  pair?: { from: string; to: string };
  status: Status;
  message: string;
  /** What to do about it; absent on pass. */
  remedy?: string;
  /** The cause findings share when the report groups them, e.g. "TCP 10250 refused" (pair findings). */
  cause?: string;
}

/** What a node check knows besides the node's facts: its inventory entry and the plan. */
export interface NodeContext {
  name: string;
  address: string;
  roles: readonly Role[];
  plan: Plan;
  /** The inventory's SELinux policy for this node (default permissive: install sets an enforcing node permissive). */
  selinux?: SelinuxPolicy;
  /** Every reachable node of the run (this one included), for checks that judge what peers can reach. */
  peers?: readonly { name: string; address: string; roles: readonly Role[] }[];
}

/** The decisions that verdicts depend on: Kubernetes version, CNI, drivers, sizes. */
export interface Plan {
  /** Kubernetes version as MAJOR.MINOR[.PATCH]. */
  kubernetesVersion: string;
  /** Where the version came from: inventory, lock, or ferry's default. */
  kubernetesVersionSource: 'inventory' | 'lock' | 'default';
  cni: 'calico' | 'cilium' | 'flannel';
  encapsulation: 'auto' | 'ipip' | 'vxlan';
  podCidr: string;
  serviceCidr: string;
  controlPlaneEndpoint: string;
  /** Driver ferry renders into KubeletConfiguration. */
  kubeletCgroupDriver: 'systemd' | 'cgroupfs';
  /** Bytes the bundle's images will take on a node once loaded; undefined when no bundle was given. */
  imageBytes: number | undefined;
  /** NVIDIA driver version from the lock, when there is one. */
  nvidiaDriver: string | undefined;
}

export interface NodeCheck {
  id: string;
  title: string;
  /** Only for hosts with one of these roles; all hosts when absent. */
  roles?: readonly Role[];
  run(facts: Facts, ctx: NodeContext): Finding[];
}

/** What a cluster check sees: every reachable node's facts, the probes, the admin clock samples. */
export interface ClusterContext {
  nodes: readonly NodeContext[];
  facts: ReadonlyMap<string, Facts>;
  probes: ProbeResults | undefined;
  plan: Plan;
}

export interface ClusterCheck {
  id: string;
  title: string;
  run(ctx: ClusterContext): Finding[];
}

/** Shorthand used by every check: a finding about one host. */
export function hostFinding(check: string, host: string, status: Status, message: string, remedy?: string): Finding {
  return remedy === undefined || status === 'pass' ? { check, host, status, message } : { check, host, status, message, remedy };
}
