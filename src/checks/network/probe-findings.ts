// Findings from the pairwise probes: IP-in-IP (protocol 4) and the VXLAN UDP port per direction, TCP ports per pair.
import type { PathResult, TcpResult } from '../../probes/types.ts';
import type { ClusterCheck, ClusterContext, Finding, Status } from '../types.ts';
import { ipipPasses } from '../recommend.ts';

/** " (N directions not probed: --pairs rack)" when pair selection left some out, else nothing. */
function notProbed(ctx: ClusterContext): string {
  const skipped = ctx.probes?.pairs?.skipped.length ?? 0;
  return skipped > 0 ? ` (${skipped} directions not probed: --pairs ${ctx.probes!.pairs!.mode})` : '';
}

function pathFindings(check: string, paths: readonly PathResult[], status: Status, what: string, remedy: string, note = ''): Finding[] {
  const bad = paths.filter((p) => p.outcome !== 'ok');
  if (paths.length > 0 && bad.length === 0) return [{ check, status: 'pass', message: `${what} passes in all ${paths.length} ${note ? 'probed ' : ''}directions${note}` }];
  return bad.map((p) => ({
    check,
    pair: { from: p.from, to: p.to },
    status: p.outcome === 'unknown' ? 'warn' : status,
    cause: `${what} ${p.outcome === 'dropped' ? 'dropped' : p.outcome === 'send-error' ? 'not sent' : 'not tested'}`,
    message:
      p.outcome === 'dropped' ? `${what} from ${p.from} never reached ${p.to}` : p.outcome === 'send-error' ? `${p.from} could not send ${what}: ${p.detail ?? 'refused by its own stack'}` : `${what} ${p.from} → ${p.to} not tested: ${p.detail ?? 'probe did not run'}`,
    remedy: p.outcome === 'unknown' ? 'install python3 (or platform-python) on the node and run doctor as root' : remedy,
  }));
}

function ipip(ctx: ClusterContext): Finding[] {
  if (!ctx.probes || ctx.nodes.length < 2) return [];
  const status: Status = ctx.plan.encapsulation === 'ipip' ? 'fail' : 'warn';
  const remedy = `allow IP protocol 4 between the nodes (nft: meta l4proto 4 accept; /etc/protocols calls it ipencap; firewalld: --add-protocol=4; cloud/ACL: protocol number 4), or use VXLAN (${ctx.plan.encapsulation === 'ipip' ? 'set network.encapsulation: vxlan or auto' : 'doctor recommends it'})`;
  return pathFindings('ipip', ctx.probes.ipip, status, 'IP-in-IP (protocol 4)', remedy, notProbed(ctx));
}

function vxlan(ctx: ClusterContext): Finding[] {
  if (!ctx.probes || ctx.nodes.length < 2) return [];
  const needed = ctx.plan.encapsulation === 'vxlan' || (ctx.plan.encapsulation === 'auto' && !ipipPasses(ctx.probes, ctx.nodes.length));
  const { port, paths } = ctx.probes.udp;
  return pathFindings('vxlan-udp', paths, needed ? 'fail' : 'warn', `UDP ${port} (VXLAN)`, `allow UDP ${port} between the nodes (nft: udp dport ${port} accept)`, notProbed(ctx));
}

function tcp(ctx: ClusterContext): Finding[] {
  if (!ctx.probes) return [];
  const results = ctx.probes.tcp;
  const bad = results.filter((r) => r.outcome !== 'ok');
  if (results.length > 0 && bad.length === 0) return [{ check: 'tcp-reach', status: 'pass', message: `all ${results.length} node-to-port connections succeeded${notProbed(ctx)}` }];
  return bad.map((r: TcpResult) => {
    const untested = r.outcome === 'port-in-use' || r.outcome === 'other-service' || r.outcome === 'unknown';
    const message =
      r.outcome === 'refused' ? `${r.from} → ${r.to}:${r.port} refused (a firewall rejects it, or the listener never started)`
      : r.outcome === 'timeout' ? `${r.from} → ${r.to}:${r.port} timed out (dropped on the way)`
      : r.outcome === 'port-in-use' ? `${r.to}:${r.port} is taken by another program, so ${r.from} → ${r.to}:${r.port} could not be tested`
      : r.outcome === 'other-service' ? `${r.from} → ${r.to}:${r.port} reached a program that is not doctor’s listener`
      : `${r.from} → ${r.to}:${r.port} not tested: ${r.detail ?? 'probe did not run'}`;
    const cause = `TCP ${r.port} ${r.outcome === 'refused' ? 'refused' : r.outcome === 'timeout' ? 'timed out' : r.outcome === 'port-in-use' ? 'taken by another program' : r.outcome === 'other-service' ? 'answered by another program' : 'not tested'}`;
    return { check: 'tcp-reach', pair: { from: r.from, to: r.to }, status: untested ? 'warn' : 'fail', message, cause, remedy: untested ? `free port ${r.port} on ${r.to} and run doctor again` : `open TCP ${r.port} on ${r.to} to ${r.from} (nft: tcp dport ${r.port} accept; firewall-cmd --add-port=${r.port}/tcp)` } satisfies Finding;
  });
}

function agents(ctx: ClusterContext): Finding[] {
  const pairs = ctx.probes?.pairs;
  const coverage: Finding[] =
    pairs && pairs.skipped.length > 0
      ? [{ check: 'probe-agent', status: 'warn', message: `pairwise probes left out ${pairs.skipped.length} of ${pairs.skipped.length + pairs.probed} directions (--pairs ${pairs.mode}: ${pairs.rule}); they count as untested, never as passing (the list: probes.pairs.skipped in --json)`, remedy: 'run doctor --pairs all to probe every pair' }]
      : [];
  return [...coverage, ...(ctx.probes?.agentErrors ?? []).map((e) => ({ check: 'probe-agent', host: e.host, status: 'warn' as const, message: `pairwise probes could not run here: ${e.error}`, remedy: 'install python3 (or platform-python) and connect as root or with sudo' }))];
}

/** The pairwise probe checks, in report order. */
export const probeChecks: ClusterCheck[] = [
  { id: 'ipip', title: 'IP-in-IP (protocol 4) between every node pair, both directions', run: ipip },
  { id: 'vxlan-udp', title: 'VXLAN UDP port between every node pair, both directions', run: vxlan },
  { id: 'tcp-reach', title: 'control-plane and CNI TCP ports reachable between nodes', run: tcp },
  { id: 'probe-agent', title: 'probe agent ran on every node', run: agents },
];
