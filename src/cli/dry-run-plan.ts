// How a dry run shows its plan: per host, in order, each command or file it would have run or written. Pure.
import type { PlanEntry } from '../hosts/dry-run.ts';

function line(e: PlanEntry): string {
  const mode = (m?: number) => (m === undefined ? '' : `, mode ${m.toString(8)}`);
  if (e.kind === 'exec') return `  $ ${e.command}${e.stdinBytes === undefined ? '' : `  (stdin ${e.stdinBytes} bytes)`}`;
  if (e.kind === 'task') return `  task: ${e.what}`;
  if (e.kind === 'write') return `  write ${e.path} (${e.size} bytes, sha256 ${e.sha256.slice(0, 12)}${mode(e.mode)})`;
  return e.pending ? `  upload ${e.from} -> ${e.path} (made by an earlier step${mode(e.mode)})` : `  upload ${e.from} -> ${e.path} (${e.size} bytes, sha256 ${e.sha256.slice(0, 12)}${mode(e.mode)})`;
}

/** The plan as text, hosts in the order given, each host's steps in the order they were recorded. */
export function formatDryRunPlan(entries: readonly PlanEntry[], hosts: readonly string[]): string {
  const out: string[] = [];
  for (const host of hosts) {
    const mine = entries.filter((e) => e.host === host);
    out.push(`${host}: ${mine.length === 0 ? 'nothing to do' : `${mine.length} step(s)`}`);
    out.push(...mine.map(line));
  }
  return `${out.join('\n')}\n`;
}
