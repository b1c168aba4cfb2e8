// Judging a cluster from `kubectl get nodes -o json` and `kubectl get pods -A -o json`: which expected nodes are
// not Ready (and why), and which expected kube-system pods are not Running on their node. Pure.
import type { Inventory } from '../../config/inventory.ts';
import { UserError } from '../../errors.ts';
import { controlPlanes, kubeNodes } from './cluster.ts';

interface Condition { type?: string; status?: string; reason?: string; message?: string }
interface NodeItem { metadata?: { name?: string }; status?: { conditions?: Condition[] } }
interface PodItem { metadata?: { name?: string; namespace?: string }; spec?: { nodeName?: string }; status?: { phase?: string; reason?: string } }

/** One pod ferry expects: a name prefix (static pods are `<component>-<node>`), its namespace and node. */
export interface ExpectedPod { prefix: string; namespace: string; node: string }

function items<T>(json: string, what: string): T[] {
  try {
    const parsed = JSON.parse(json) as { items?: T[] };
    if (!Array.isArray(parsed.items)) throw new Error('no items list');
    return parsed.items;
  } catch (error) {
    throw new UserError(`kubectl gave unreadable ${what} JSON: ${(error as Error).message}`);
  }
}

/** The expected nodes that are missing or not Ready, each with the reason the API gives. */
export function notReadyNodes(nodesJson: string, expected: readonly string[]): { node: string; reason: string }[] {
  const byName = new Map(items<NodeItem>(nodesJson, 'node').map((n) => [n.metadata?.name, n]));
  return expected.flatMap((name) => {
    const node = byName.get(name);
    if (!node) return [{ node: name, reason: 'not registered with the API server' }];
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    if (ready?.status === 'True') return [];
    return [{ node: name, reason: ready ? `Ready=${ready.status}${ready.reason ? ` (${ready.reason})` : ''}` : 'no Ready condition yet' }];
  });
}

/** The pods an installed cluster runs in kube-system: the control-plane static pods and the CNI's node agent. */
export function expectedPods(inventory: Inventory): ExpectedPod[] {
  const statics = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd'];
  const cp = controlPlanes(inventory).flatMap((h) => statics.map((s) => ({ prefix: `${s}-`, namespace: 'kube-system', node: h.name })));
  const agent = inventory.network.cni === 'calico' ? 'calico-node-' : undefined;
  return [...cp, ...(agent ? kubeNodes(inventory).map((h) => ({ prefix: agent, namespace: 'kube-system', node: h.name })) : [])];
}

/** Expected pods that are not Running on their node, with what the API says about them. */
export function podsNotRunning(podsJson: string, expected: readonly ExpectedPod[]): { pod: string; reason: string }[] {
  const pods = items<PodItem>(podsJson, 'pod');
  return expected.flatMap((e) => {
    const mine = pods.filter((p) => p.metadata?.namespace === e.namespace && p.metadata?.name?.startsWith(e.prefix) && p.spec?.nodeName === e.node);
    if (mine.some((p) => p.status?.phase === 'Running')) return [];
    const seen = mine[0];
    const label = `${e.namespace}/${e.prefix}* on ${e.node}`;
    return [{ pod: label, reason: seen ? `${seen.status?.phase ?? 'unknown'}${seen.status?.reason ? ` (${seen.status.reason})` : ''}` : 'no such pod' }];
  });
}
