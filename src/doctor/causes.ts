// Groups a doctor report's failures and warnings by cause ("IP-in-IP dropped: 37 paths, rack b → rack c"), so a
// report of 100 nodes reads as a handful of causes instead of thousands of lines. Pure.
import type { Finding, Status } from '../checks/types.ts';
import { groupOf } from '../probes/pairs.ts';
import type { DoctorReport } from './model.ts';

export interface Cause {
  check: string;
  status: Exclude<Status, 'pass'>;
  /** What the findings share: the pair finding's cause, or the check id for node findings. */
  title: string;
  /** Directed paths (pair findings) or nodes (node findings) it covers. */
  count: number;
  unit: 'paths' | 'nodes';
  /** Where, most affected first: per group pair, per receiving node, per sending node, or the nodes. */
  where: { label: string; items: { name: string; count: number }[] }[];
  /** The first finding's message and remedy, as an example. */
  example: string;
  remedy?: string;
  findings: Finding[];
}

/** Names shown per "where" line at most; the rest are counted. */
export const SHOWN = 8;

/** An example message longer than this (one naming 100 nodes) is cut; the whole one is in the JSON. */
const EXAMPLE_CHARS = 240;

function tally(names: readonly string[]): { name: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
  return [...counts].map(([name, count]) => ({ name, count })).sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
}

/** Every non-passing host and pair finding, grouped by check, status and cause; worst status first, then largest. */
export function groupFailures(report: Pick<DoctorReport, 'findings' | 'hosts'>): Cause[] {
  const group = new Map(report.hosts.map((h) => [h.name, groupOf(h)]));
  const groups = new Set(group.values());
  const byKey = new Map<string, Finding[]>();
  for (const f of report.findings) {
    if (f.status === 'pass' || (!f.host && !f.pair)) continue;
    const key = `${f.status}\0${f.check}\0${f.pair ? (f.cause ?? f.check) : f.check}\0${f.pair ? 'pair' : 'host'}`;
    byKey.set(key, [...(byKey.get(key) ?? []), f]);
  }
  const causes = [...byKey.values()].map((findings): Cause => {
    const first = findings[0]!;
    const base = { check: first.check, status: first.status as Cause['status'], example: first.message, ...(first.remedy ? { remedy: first.remedy } : {}), findings };
    if (!first.pair) {
      const hosts = [...new Set(findings.map((f) => f.host!))];
      return { ...base, title: first.check, count: hosts.length, unit: 'nodes', where: [{ label: 'on', items: hosts.map((name) => ({ name, count: 1 })) }] };
    }
    const pairs = findings.map((f) => f.pair!);
    const where: Cause['where'] = [];
    const ofGroup = (n: string) => group.get(n) ?? n;
    if (groups.size > 1) where.push({ label: 'between', items: tally(pairs.map((p) => `${ofGroup(p.from)} → ${ofGroup(p.to)}`)) });
    where.push({ label: 'towards', items: tally(pairs.map((p) => p.to)) }, { label: 'from', items: tally(pairs.map((p) => p.from)) });
    return { ...base, title: first.cause ?? first.check, count: findings.length, unit: 'paths', where };
  });
  return causes.sort((a, b) => (a.status === b.status ? 0 : a.status === 'fail' ? -1 : 1) || b.count - a.count);
}

/** A cause as text lines (the table's "by cause" sections). */
export function causeLines(cause: Cause, indent = '  '): string[] {
  const head = `${indent}${cause.status.toUpperCase()}  ${cause.title}: ${cause.count} ${cause.count === 1 ? cause.unit.slice(0, -1) : cause.unit}`;
  const width = Math.max(...cause.where.map((w) => w.label.length));
  // One path or node: the example names it already.
  const where = (cause.count === 1 ? [] : cause.where).map((w) => {
    const shown = w.items.slice(0, SHOWN).map((i) => (cause.unit === 'nodes' ? i.name : `${i.name} (${i.count})`));
    const more = w.items.length > SHOWN ? `, and ${w.items.length - SHOWN} more` : '';
    return `${indent}      ${`${w.label}:`.padEnd(width + 1)} ${shown.join(', ')}${more}`;
  });
  const shortened = cause.example.length > EXAMPLE_CHARS ? `${cause.example.slice(0, EXAMPLE_CHARS - 1)}…` : cause.example;
  const example = cause.count > 1 ? `e.g. ${shortened}` : shortened;
  return [head, ...where, `${indent}      ${example}`, ...(cause.remedy ? [`${indent}      fix: ${cause.remedy}`] : [])];
}
