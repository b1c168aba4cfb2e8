// Renders the doctor report: a table grouped by host, then pair failures by cause, then cluster-wide; or JSON (shape in docs/doctor.md).
import type { Finding } from '../checks/types.ts';
import { causeLines, groupFailures } from './causes.ts';
import type { DoctorReport } from './model.ts';

/** Above this many hosts the table lists node findings by cause, not host by host (every finding stays in the JSON). */
export const HOSTS_LISTED = 10;

const LABEL: Record<Finding['status'], string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL' };

function lines(findings: readonly Finding[], width: number): string[] {
  return findings.flatMap((f) => {
    const head = `  ${LABEL[f.status]}  ${f.check.padEnd(width)}  ${f.message}`;
    return f.remedy ? [head, `        ${''.padEnd(width)}  fix: ${f.remedy}`] : [head];
  });
}

/** The human-readable report. */
export function renderTable(report: DoctorReport): string {
  const width = Math.max(8, ...report.findings.map((f) => f.check.length));
  const out: string[] = [];
  const k8s = `Kubernetes ${report.kubernetes.version} (${report.kubernetes.source})`;
  out.push(`ferry doctor${report.cluster ? `: cluster ${report.cluster}` : ''}, ${k8s}, ${report.hosts.length} host(s)`, '');
  const compact = report.hosts.length > HOSTS_LISTED;
  const causes = groupFailures(report);
  for (const host of report.hosts) {
    const title = `${host.name} (${[host.address, host.roles.join(',')].filter(Boolean).join(', ')})`;
    if (compact && host.reachable) continue;
    if (!host.reachable) {
      out.push(`${title}  UNREACHABLE: ${host.error}`, ...(host.remedy ? [`  fix: ${host.remedy}`] : []), '');
      continue;
    }
    out.push(`${title}  ${host.os}, kernel ${host.kernel}`);
    out.push(...lines(report.findings.filter((f) => f.host === host.name), width), '');
  }
  const nodeCauses = causes.filter((c) => c.unit === 'nodes');
  if (compact) {
    const reachable = report.hosts.filter((h) => h.reachable).length;
    out.push(`nodes: ${reachable} reachable; failures and warnings by cause (each host's findings: --json, --out)`);
    out.push(...(nodeCauses.length > 0 ? nodeCauses.flatMap((c) => causeLines(c)) : ['  every node check passed']), '');
  }
  const pairCauses = causes.filter((c) => c.unit === 'paths');
  if (pairCauses.length > 0) out.push('node pairs: failures and warnings by cause', ...pairCauses.flatMap((c) => causeLines(c)), '');
  const cluster = report.findings.filter((f) => !f.pair && !f.host);
  if (cluster.length > 0) out.push('cluster', ...lines(cluster, width), '');
  const r = report.recommendation;
  out.push(
    'recommendation for install',
    `  encapsulation:    ${r.encapsulation.toUpperCase()} (${r.encapsulationReason})`,
    `  iptables backend: ${r.iptablesBackend} (${r.iptablesBackendReason})`,
  );
  if (r.cniMtu !== undefined) out.push(`  CNI MTU:          ${r.cniMtu}`);
  const s = report.summary;
  out.push('', `summary: ${s.pass} pass, ${s.warn} warn, ${s.fail} fail, ${s.unreachable} unreachable → exit ${report.exitCode}`);
  return `${out.join('\n')}\n`;
}

/** The --json output: the report as is, pretty-printed. */
export function renderJson(report: DoctorReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
