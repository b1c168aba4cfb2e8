// Ports kubeadm and the CNI will bind must be free on the node before install.
import type { Facts } from '../facts/types.ts';
import { portsFor } from './ports-plan.ts';
import { hostFinding, type Finding, type NodeCheck, type NodeContext } from './types.ts';

function localPorts(facts: Facts, ctx: NodeContext): Finding[] {
  const needs = portsFor(ctx.roles, ctx.plan);
  const taken = needs.filter((n) => facts.listeners.some((l) => l.port === n.port));
  if (taken.length === 0)
    return [hostFinding('local-ports', facts.host, 'pass', `free: ${needs.map((n) => n.port).join(', ')}`)];
  return taken.map((n) => {
    const holders = facts.listeners.filter((l) => l.port === n.port).map((l) => `${l.address}:${l.port}`);
    return hostFinding('local-ports', facts.host, 'fail', `port ${n.port} (${n.service}) is already in use (${holders.join(', ')})`, `find the holder with \`ss -tlnp 'sport = :${n.port}'\` and stop it`);
  });
}

/** The local-ports check. */
export const localPortsCheck: NodeCheck = { id: 'local-ports', title: 'ports kubeadm and the CNI bind are free', run: localPorts };
