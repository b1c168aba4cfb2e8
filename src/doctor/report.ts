// Renders the doctor report: a table grouped by host, then by node pair, then cluster-wide; or JSON (shape in docs/doctor.md).
import type { Finding } from '../checks/types.ts';
import type { DoctorReport } from './model.ts';

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
  for (const host of report.hosts) {
    const title = `${host.name} (${[host.address, host.roles.join(',')].filter(Boolean).join(', ')})`;
    if (!host.reachable) {
      out.push(`${title}  UNREACHABLE: ${host.error}`, ...(host.remedy ? [`  fix: ${host.remedy}`] : []), '');
      continue;
    }
    out.push(`${title}  ${host.os}, kernel ${host.kernel}`);
    out.push(...lines(report.findings.filter((f) => f.host === host.name), width), '');
  }
  const pairs = report.findings.filter((f) => f.pair);
  if (pairs.length > 0) {
    out.push('node pairs');
    const keys = [...new Set(pairs.map((f) => `${f.pair!.from} → ${f.pair!.to}`))];
    for (const key of keys) {
      out.push(`  ${key}`);
      out.push(...lines(pairs.filter((f) => `${f.pair!.from} → ${f.pair!.to}` === key), width).map((l) => `  ${l}`));
    }
    out.push('');
  }
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
