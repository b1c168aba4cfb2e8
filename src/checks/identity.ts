// Cloned machines share identities that Kubernetes needs unique: hostname, machine-id, product_uuid, MACs.
import type { Facts } from '../facts/types.ts';
import { clusterLink } from './node-interface.ts';
import type { ClusterCheck, ClusterContext, Finding } from './types.ts';

const ID = 'unique-identity';
const REMEDY: Record<string, string> = {
  hostname: 'hostnamectl set-hostname <unique name> on all but one',
  'machine-id': 'on all but one: rm -f /etc/machine-id /var/lib/dbus/machine-id && systemd-machine-id-setup && reboot',
  product_uuid: 'the machines are clones at the hypervisor level: give each VM a new UUID',
  MAC: 'give each clone a new MAC address (hypervisor NIC settings)',
};

function identityValues(facts: Facts, address: string): [string, string | undefined][] {
  return [
    ['hostname', facts.identity.hostname],
    ['machine-id', facts.identity.machineId],
    // Unknown product_uuid (no DMI, e.g. containers) is no evidence of a clone.
    ['product_uuid', facts.identity.productUuid],
    ['MAC', clusterLink(facts, address)?.mac],
  ];
}

function uniqueIdentity(ctx: ClusterContext): Finding[] {
  if (ctx.facts.size < 2) return [];
  const seen = new Map<string, string[]>();
  for (const node of ctx.nodes) {
    const facts = ctx.facts.get(node.name);
    if (!facts) continue;
    for (const [kind, value] of identityValues(facts, node.address)) {
      if (!value) continue;
      const key = `${kind}\u0000${value}`;
      seen.set(key, [...(seen.get(key) ?? []), node.name]);
    }
  }
  const out: Finding[] = [];
  for (const [key, hosts] of seen) {
    if (hosts.length < 2) continue;
    const [kind, value] = key.split('\u0000') as [string, string];
    for (const host of hosts)
      out.push({ check: ID, host, status: 'fail', message: `${kind} ${value} is shared by ${hosts.join(', ')}`, remedy: REMEDY[kind]! });
  }
  if (out.length === 0) out.push({ check: ID, status: 'pass', message: `hostname, machine-id, product_uuid (where known) and MACs are unique across ${ctx.facts.size} node(s)` });
  return out;
}

/** The cluster-wide identity check. */
export const identityCheck: ClusterCheck = { id: ID, title: 'unique hostname, machine-id, product_uuid and MAC', run: uniqueIdentity };
