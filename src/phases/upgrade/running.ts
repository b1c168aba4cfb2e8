// What an upgrade reads from the running cluster, read-only: the Node objects (kubelet version, Ready, cordoned) from
// `kubectl get nodes -o json` on the first control plane, and on each node `kubeadm version -o short`, `containerd
// --version`, `runc --version`, the kube-apiserver static pod's image tag (control planes) and nvidia-smi's driver
// (GPU nodes). The parsers are pure; `readRunningNode` runs the commands through the Host it is given (the runner's
// read-only hosts in observe).
import type { InventoryHost } from '../../config/inventory.ts';
import { UnexpectedOutputError } from '../../errors.ts';
import type { Host } from '../../hosts/host.ts';
import { sh } from '../../hosts/shell.ts';
import type { RunningNode } from '../../upgrade/plan.ts';
import { compareVersion } from '../../upgrade/plan.ts';
import { kubectl, MANIFESTS_DIR } from '../kube/cluster.ts';

/** What the API says about one node. */
export interface NodeStatus {
  name: string;
  kubelet: string;
  ready: boolean;
  cordoned: boolean;
}

/** `kubectl get nodes -o json` → each node's kubelet version, Ready condition and spec.unschedulable. */
export function parseNodeList(json: string): Map<string, NodeStatus> {
  let doc: { items?: { metadata?: { name?: string }; spec?: { unschedulable?: boolean }; status?: { nodeInfo?: { kubeletVersion?: string }; conditions?: { type: string; status: string }[] } }[] };
  try {
    doc = JSON.parse(json);
  } catch {
    throw new UnexpectedOutputError(`kubectl get nodes printed no JSON: ${json.slice(0, 200)}`);
  }
  const out = new Map<string, NodeStatus>();
  for (const item of doc.items ?? []) {
    const name = item.metadata?.name;
    if (!name) continue;
    out.set(name, {
      name, kubelet: item.status?.nodeInfo?.kubeletVersion ?? '',
      ready: (item.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
      cordoned: item.spec?.unschedulable === true,
    });
  }
  return out;
}

/** The version in `containerd --version` (`containerd containerd.io 2.1.9 <commit>`, Debian's `containerd github.com/... 1.6.20~ds1 ...`). */
export function parseContainerdVersion(text: string): string | undefined {
  return /\sv?(\d+\.\d+\.\d+)/.exec(text.split('\n')[0] ?? '')?.[1];
}

/** The version in `runc --version` (`runc version 1.1.5+ds1`). */
export function parseRuncVersion(text: string): string | undefined {
  return /runc version v?(\d+\.\d+\.\d+)/.exec(text)?.[1];
}

/** `kubeadm version -o short` → v1.33.1 (undefined when not a version). */
export function parseKubeadmShort(text: string): string | undefined {
  const t = text.trim();
  return /^v\d+\.\d+\.\d+/.test(t) ? t : undefined;
}

/** The tag of the kube-apiserver static pod's image (`image: reg/kube-apiserver:v1.33.1`). */
export function parseApiServerTag(manifest: string): string | undefined {
  return /^\s*(?:-\s*)?image:\s*\S+\/kube-apiserver:(v?\d+\.\d+\.\d+)\s*$/m.exec(manifest)?.[1];
}

/** One read-only script per node: a marked section per tool, each allowed to be missing. */
export const VERSIONS_SCRIPT = sh`echo ==kubeadm==; kubeadm version -o short 2>/dev/null
echo ==containerd==; containerd --version 2>/dev/null
echo ==runc==; runc --version 2>/dev/null
echo ==apiserver==; cat ${`${MANIFESTS_DIR}/kube-apiserver.yaml`} 2>/dev/null
echo ==nvidia==; nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -n 1
true`;

/** VERSIONS_SCRIPT's sections. */
export function parseVersions(stdout: string): Omit<RunningNode, 'name' | 'roles' | 'kubelet'> {
  const sections = new Map<string, string>();
  let current = '';
  for (const line of stdout.split('\n')) {
    const m = /^==(\w+)==$/.exec(line);
    if (m) current = m[1]!;
    else if (current) sections.set(current, `${sections.get(current) ?? ''}${line}\n`);
  }
  const kubeadm = parseKubeadmShort(sections.get('kubeadm') ?? '');
  const containerd = parseContainerdVersion(sections.get('containerd') ?? '');
  const runc = parseRuncVersion(sections.get('runc') ?? '');
  const apiServer = parseApiServerTag(sections.get('apiserver') ?? '');
  const nvidia = /^\s*(\d+\.\d+(?:\.\d+)?)\s*$/.exec(sections.get('nvidia') ?? '')?.[1];
  return { ...(kubeadm ? { kubeadm } : {}), ...(containerd ? { containerd } : {}), ...(runc ? { runc } : {}), ...(apiServer ? { apiServer } : {}), ...(nvidia ? { nvidiaDriver: nvidia } : {}) };
}

/** The Node objects, read on the first control plane. */
export async function readNodeList(first: Host): Promise<Map<string, NodeStatus>> {
  const r = await first.exec(kubectl('get', 'nodes', '-o', 'json'), { timeoutMs: 60_000 });
  return parseNodeList(r.stdout);
}

/** One node's running versions (its kubelet from the API's view). */
export async function readRunningNode(host: Host, spec: InventoryHost, status: NodeStatus | undefined): Promise<RunningNode> {
  const r = await host.exec(VERSIONS_SCRIPT, { timeoutMs: 60_000 });
  const versions = parseVersions(r.stdout);
  return { name: spec.name, roles: spec.roles, kubelet: status?.kubelet ?? '', ...versions };
}

/**
 * The cluster's Kubernetes version as kubeadm's apply leaves it: the newest kube-apiserver tag among the control
 * planes (`kubeadm upgrade apply` moves the cluster and the first control plane's static pods together; `upgrade node`
 * follows on the others, never ahead of the cluster).
 */
export function clusterVersion(nodes: readonly Pick<RunningNode, 'apiServer' | 'kubelet' | 'roles'>[]): string {
  const tags = nodes.filter((n) => n.roles.includes('control-plane')).map((n) => n.apiServer ?? n.kubelet).filter(Boolean);
  return tags.sort(compareVersion).at(-1) ?? '';
}
