// Human renderings of a resolution: the component table with one-line reasons, host changes, warnings, and
// sources are left to --json and the lock. Pure: returns text; the CLI prints it.
import { osName } from '../config/lock-os.ts';
import type { Resolved } from './resolve.ts';

/** Rows as aligned columns (the first row is the header); the last column is not padded. */
export function renderTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

/** The summary `ferry resolve` prints: what was asked, the stack, why each version, what hosts must change. */
export function explainResolution(res: Resolved): string {
  const s = res.stack;
  const oses = s.alsoOs?.length ? [res.request.os, ...s.alsoOs.map((o) => osName(o.os))].join(' + ') : res.request.os;
  const asked = [oses, res.request.gpu ?? 'no GPU', res.request.cri, s.os.arch].join(' · ');
  const rows = [['COMPONENT', 'VERSION', 'WHY (RULES)'], ...res.decisions.map((d) => [d.component, d.version, `${d.why.replace(/ \[unverified: .*\]$/, ' [unverified]')} (${d.rules.join(', ')})`])];
  const parts = [`ferry resolve: ${asked}`, '', renderTable(rows)];
  if (s.nvidiaDriver) parts.push('', `NVIDIA driver ${s.nvidiaDriver.version} with ${s.nvidiaDriver.kernelModule} kernel modules`);
  if (res.hostChanges.length > 0) {
    parts.push('', 'Host changes the stack requires:');
    for (const h of res.hostChanges) {
      parts.push(`  - ${h.description} [${h.rules.join(', ')}]`);
      if (h.command) parts.push(`      ${h.command}`);
    }
  }
  if (res.warnings.length > 0) parts.push('', 'Warnings:', ...res.warnings.map((w) => `  - ${w}`));
  return `${parts.join('\n')}\n`;
}
