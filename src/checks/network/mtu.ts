// MTU agreement across nodes, and the CNI MTU that fits the underlay.
import { clusterLink } from '../node-interface.ts';
import type { ClusterCheck, ClusterContext, Finding } from '../types.ts';

/** CNI MTU for an underlay MTU: IP-in-IP costs 20 bytes, VXLAN 50. */
export function cniMtu(underlay: number, encapsulation: 'ipip' | 'vxlan'): number {
  return underlay - (encapsulation === 'ipip' ? 20 : 50);
}

function mtu(ctx: ClusterContext): Finding[] {
  const byNode = ctx.nodes.flatMap((n) => {
    const facts = ctx.facts.get(n.name);
    const link = facts ? clusterLink(facts, n.address) : undefined;
    return link ? [{ host: n.name, iface: link.name, mtu: link.mtu }] : [];
  });
  if (byNode.length < 2) return [];
  const values = [...new Set(byNode.map((b) => b.mtu))].sort((a, b) => a - b);
  const smallest = values[0]!;
  const advice = `CNI MTU ${cniMtu(smallest, 'ipip')} with IP-in-IP, ${cniMtu(smallest, 'vxlan')} with VXLAN`;
  if (values.length === 1) return [{ check: 'mtu', status: 'pass', message: `every node's cluster interface has MTU ${smallest}: ${advice}` }];
  return byNode
    .filter((b) => b.mtu !== smallest)
    .map((b) => ({
      check: 'mtu',
      host: b.host,
      status: 'warn' as const,
      message: `${b.iface} has MTU ${b.mtu}, other nodes ${smallest}: packets above ${smallest} bytes between them are dropped or fragmented`,
      remedy: `set the same MTU on every node's cluster interface (ip link set ${b.iface} mtu ${smallest}, persist it), and use ${advice}`,
    }));
}

/** The cluster-wide MTU check. */
export const mtuCheck: ClusterCheck = { id: 'mtu', title: 'MTU agreement across nodes', run: mtu };
