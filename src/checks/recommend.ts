// What doctor recommends for install: CNI encapsulation (IPIP only if protocol 4 passed everywhere), iptables backend, CNI MTU.
import type { Facts } from '../facts/types.ts';
import type { ProbeResults } from '../probes/types.ts';
import { recommendedBackend } from './iptables.ts';
import { cniMtu } from './network/mtu.ts';
import { clusterLink } from './node-interface.ts';
import type { ClusterContext } from './types.ts';

export interface Recommendation {
  encapsulation: 'ipip' | 'vxlan';
  encapsulationReason: string;
  /** What the protocol 4 probe showed: passed on every direction, dropped on some, or not run or inconclusive (unproven). */
  ipipProbe: 'passed' | 'failed' | 'unproven';
  /** Calico's FELIX_IPTABLESBACKEND: NFT, Legacy, or Auto when nodes differ. */
  iptablesBackend: 'NFT' | 'Legacy' | 'Auto';
  iptablesBackendReason: string;
  /** MTU for the CNI: smallest underlay MTU minus the encapsulation's overhead. */
  cniMtu: number | undefined;
}

/** Whether protocol 4 passed on every directed pair of `nodes` nodes. */
export function ipipPasses(probes: ProbeResults, nodes: number): boolean {
  return probes.ipip.length === nodes * (nodes - 1) && probes.ipip.every((p) => p.outcome === 'ok');
}

function encapsulation(ctx: ClusterContext): Pick<Recommendation, 'encapsulation' | 'encapsulationReason' | 'ipipProbe'> {
  const n = ctx.facts.size;
  if (!ctx.probes || n < 2 || ctx.probes.ipip.length === 0) return { encapsulation: 'vxlan', ipipProbe: 'unproven', encapsulationReason: 'no node pair was probed, so IP-in-IP is unproven; VXLAN is the safe choice' };
  if (ipipPasses(ctx.probes, n)) return { encapsulation: 'ipip', ipipProbe: 'passed', encapsulationReason: `protocol 4 passed on all ${n * (n - 1)} directions` };
  const bad = ctx.probes.ipip.filter((p) => p.outcome !== 'ok').map((p) => `${p.from}→${p.to}`);
  const skipped = ctx.probes.pairs?.skipped.length ?? 0;
  if (bad.length === 0 && skipped > 0)
    return { encapsulation: 'vxlan', ipipProbe: 'unproven', encapsulationReason: `protocol 4 passed on all ${ctx.probes.ipip.length} probed directions, but ${skipped} direction(s) were not probed (--pairs ${ctx.probes.pairs!.mode}), so IP-in-IP is unproven; VXLAN is the safe choice` };
  const ipipProbe: Recommendation['ipipProbe'] = ctx.probes.ipip.some((p) => p.outcome === 'dropped' || p.outcome === 'send-error') ? 'failed' : 'unproven';
  return { encapsulation: 'vxlan', ipipProbe, encapsulationReason: `protocol 4 did not pass on ${bad.length} direction(s): ${bad.slice(0, 6).join(', ')}${bad.length > 6 ? ', …' : ''}` };
}

function backend(facts: readonly Facts[]): Pick<Recommendation, 'iptablesBackend' | 'iptablesBackendReason'> {
  const each = facts.map((f) => [f.host, recommendedBackend(f)] as const);
  const kinds = new Set(each.map(([, b]) => b));
  if (kinds.size === 1) {
    const only = [...kinds][0]!;
    return { iptablesBackend: only, iptablesBackendReason: `every node uses ${only === 'NFT' ? 'iptables-nft' : 'iptables-legacy'}` };
  }
  if (kinds.size === 0) return { iptablesBackend: 'NFT', iptablesBackendReason: 'no node facts; nftables is the default on EL8/9 and Debian 11+' };
  return { iptablesBackend: 'Auto', iptablesBackendReason: `nodes differ (${each.map(([h, b]) => `${h}: ${b}`).join(', ')}); Calico 3.26+ detects per node` };
}

/** The recommendation install reads, from the facts and probes of a doctor run. */
export function recommend(ctx: ClusterContext): Recommendation {
  const enc = encapsulation(ctx);
  const mtus = ctx.nodes.flatMap((n) => {
    const f = ctx.facts.get(n.name);
    const link = f ? clusterLink(f, n.address) : undefined;
    return link ? [link.mtu] : [];
  });
  return { ...enc, ...backend([...ctx.facts.values()]), cniMtu: mtus.length > 0 ? cniMtu(Math.min(...mtus), enc.encapsulation) : undefined };
}
