// Every doctor check in report order, and running them with --only/--skip: the one list the CLI and docs name ids from.
import type { Facts } from '../facts/types.ts';
import { certExpiryCheck } from './certs.ts';
import { cgroupChecks } from './cgroup.ts';
import { diskCheck } from './disk.ts';
import { gpuChecks } from './gpu.ts';
import { hostServiceChecks } from './host-services.ts';
import { identityCheck } from './identity.ts';
import { iptablesBackend } from './iptables.ts';
import { kernelChecks } from './kernel.ts';
import { localPortsCheck } from './local-ports.ts';
import { clockSkewCheck } from './network/clock-skew.ts';
import { mtuCheck } from './network/mtu.ts';
import { probeChecks } from './network/probe-findings.ts';
import { namingChecks } from './naming.ts';
import { basicChecks } from './node-basics.ts';
import { runtimeCheck } from './runtime.ts';
import type { ClusterCheck, ClusterContext, Finding, NodeCheck, NodeContext } from './types.ts';

/** Checks of one node, in report order. */
export const nodeChecks: readonly NodeCheck[] = [
  iptablesBackend,
  ...cgroupChecks,
  ...basicChecks,
  ...kernelChecks,
  localPortsCheck,
  ...hostServiceChecks,
  ...namingChecks,
  diskCheck,
  runtimeCheck,
  certExpiryCheck,
  ...gpuChecks,
];

/** Checks across nodes and node pairs, in report order. */
export const clusterChecks: readonly ClusterCheck[] = [identityCheck, mtuCheck, clockSkewCheck, ...probeChecks];

/** Every check id, for --only/--skip validation and the docs. */
export function checkIds(): string[] {
  return [...nodeChecks, ...clusterChecks].map((c) => c.id).filter((id, i, all) => all.indexOf(id) === i);
}

export interface Selection {
  only?: readonly string[];
  skip?: readonly string[];
}

/** Whether check `id` runs under the selection. */
export function selected(id: string, sel: Selection): boolean {
  if (sel.only && sel.only.length > 0 && !sel.only.includes(id)) return false;
  return !(sel.skip ?? []).includes(id);
}

/** Run the node checks that apply to one node (role filter, selection). */
export function runNodeChecks(facts: Facts, ctx: NodeContext, sel: Selection = {}): Finding[] {
  return nodeChecks
    .filter((c) => selected(c.id, sel) && (!c.roles || c.roles.some((r) => ctx.roles.includes(r))))
    .flatMap((c) => c.run(facts, ctx));
}

/** Run the cluster checks over all gathered facts and probes. */
export function runClusterChecks(ctx: ClusterContext, sel: Selection = {}): Finding[] {
  return clusterChecks.filter((c) => selected(c.id, sel)).flatMap((c) => c.run(ctx));
}
