// The one encapsulation decision of an install: what the inventory forces, else what doctor measured, else VXLAN.
// os-prepare's firewall (which port or protocol to open) and the CNI phase (which mode to configure) both read
// it, so the node firewall and the pod network can never disagree.
import { cniMtu } from '../checks/network/mtu.ts';
import type { Recommendation } from '../checks/recommend.ts';
import type { Inventory } from '../config/inventory.ts';
import { InternalError, UserError } from '../errors.ts';
import type { NftablesInput } from '../render/nftables.ts';

export interface Encapsulation {
  kind: 'ipip' | 'vxlan';
  /** VXLAN's UDP port: 4789 for Calico, 8472 for Cilium and Flannel (their kernel-default VXLAN port). */
  port?: number;
  /** Calico's FELIX_IPTABLESBACKEND, from doctor's facts; NFT (the EL8/9 and Debian 11+ default) without them. */
  iptablesBackend: 'NFT' | 'Legacy' | 'Auto';
  /** MTU for the CNI, when doctor saw the cluster interfaces. */
  mtu?: number;
  reason: string;
  /** Set when the choice goes against what doctor measured (IP-in-IP forced although protocol 4 was blocked). */
  warning?: string;
}

const OVERHEAD = { ipip: 20, vxlan: 50 } as const;

function vxlanPort(cni: Inventory['network']['cni']): number {
  return cni === 'calico' ? 4789 : 8472;
}

function pick(inventory: Inventory, rec: Recommendation | undefined): Pick<Encapsulation, 'kind' | 'reason' | 'warning'> {
  const { cni, encapsulation: wanted } = inventory.network;
  if (wanted === 'ipip' && cni === 'cilium')
    throw new UserError('network.encapsulation: ipip is not a Cilium mode (Cilium tunnels with VXLAN or Geneve)', { hint: 'set network.encapsulation: vxlan or auto' });
  if (wanted !== 'auto') {
    const warning = wanted === 'ipip' && rec?.ipipProbe === 'failed'
      ? `network.encapsulation forces IP-in-IP, but doctor found IP protocol 4 blocked (${rec.encapsulationReason}): pods on different nodes will not reach each other until protocol 4 is allowed`
      : undefined;
    return { kind: wanted, reason: `network.encapsulation in the inventory says ${wanted}`, ...(warning ? { warning } : {}) };
  }
  if (!rec) return { kind: 'vxlan', reason: 'network.encapsulation is auto and no doctor recommendation is known (doctor did not run), so VXLAN, the safe choice' };
  if (rec.encapsulation === 'ipip' && cni === 'cilium') return { kind: 'vxlan', reason: `doctor recommends IP-in-IP (${rec.encapsulationReason}), but Cilium has no IP-in-IP mode` };
  return { kind: rec.encapsulation, reason: `network.encapsulation is auto; doctor recommends ${rec.encapsulation === 'ipip' ? 'IP-in-IP' : 'VXLAN'}: ${rec.encapsulationReason}` };
}

/** Decide the CNI encapsulation (and the settings that follow from it) from the inventory and doctor's recommendation. */
export function chooseEncapsulation(inventory: Inventory, recommendation?: Recommendation): Encapsulation {
  const chosen = pick(inventory, recommendation);
  const mtu = recommendation?.cniMtu !== undefined ? cniMtu(recommendation.cniMtu + OVERHEAD[recommendation.encapsulation], chosen.kind) : undefined;
  return {
    ...chosen,
    ...(chosen.kind === 'vxlan' ? { port: vxlanPort(inventory.network.cni) } : {}),
    iptablesBackend: recommendation?.iptablesBackend ?? 'NFT',
    ...(mtu !== undefined ? { mtu } : {}),
  };
}

/** The part of the decision the node firewall needs: IP protocol 4, or VXLAN's UDP port. */
export function firewallEncapsulation(e: Encapsulation): NftablesInput['encapsulation'] {
  if (e.kind === 'ipip') return { kind: 'ipip' };
  if (e.port === undefined) throw new InternalError('a VXLAN decision without a port');
  return { kind: 'vxlan', port: e.port };
}
