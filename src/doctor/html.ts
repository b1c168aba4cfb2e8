// report.html: the doctor report as one self-contained static page (inline CSS, no script, nothing fetched) that a
// browser on the admin host opens from disk: failures by cause, and a node × node grid per probe kind. Pure.
import { groupOf } from '../probes/pairs.ts';
import type { PathResult, TcpResult } from '../probes/types.ts';
import { causeLines, groupFailures } from './causes.ts';
import type { DoctorReport } from './model.ts';

/** What one grid cell shows: the direction from the row's node to the column's node. */
export type CellState = 'ok' | 'dropped' | 'refused' | 'unknown' | 'skipped' | 'none';

const COLOURS: Record<CellState, string> = { ok: '#2e9e44', dropped: '#d03a2f', refused: '#e58a1f', unknown: '#9a9a9a', skipped: '#ffffff', none: '#e8e8e8' };
const RANK: Record<CellState, number> = { dropped: 5, refused: 4, unknown: 3, ok: 2, skipped: 1, none: 0 };

/** Escape text for HTML element content and double-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function pathState(p: PathResult): CellState {
  return p.outcome === 'ok' ? 'ok' : p.outcome === 'dropped' ? 'dropped' : p.outcome === 'send-error' ? 'refused' : 'unknown';
}

function tcpState(t: TcpResult): CellState {
  return t.outcome === 'ok' ? 'ok' : t.outcome === 'timeout' ? 'dropped' : t.outcome === 'refused' ? 'refused' : 'unknown';
}

interface Cell {
  state: CellState;
  detail: string[];
}

/** Cells of one probe kind by "from\0to": the worst outcome of the direction, with every outcome in the detail. */
function cells(entries: readonly { from: string; to: string; state: CellState; detail: string }[]): Map<string, Cell> {
  const out = new Map<string, Cell>();
  for (const e of entries) {
    const key = `${e.from}\0${e.to}`;
    const cell = out.get(key) ?? { state: 'none', detail: [] };
    if (RANK[e.state] > RANK[cell.state]) cell.state = e.state;
    cell.detail.push(e.detail);
    out.set(key, cell);
  }
  return out;
}

function grid(title: string, nodes: readonly string[], kind: string, byPair: ReadonlyMap<string, Cell>, skipped: ReadonlySet<string>): string {
  const head = nodes.map((n) => `<th class="col" scope="col"><span>${escapeHtml(n)}</span></th>`).join('');
  const rows = nodes.map((from) => {
    const tds = nodes.map((to) => {
      const key = `${from}\0${to}`;
      const cell = byPair.get(key);
      const state: CellState = from === to ? 'none' : (cell?.state ?? (skipped.has(key) ? 'skipped' : 'none'));
      const detail = from === to ? 'same node' : cell ? cell.detail.join('; ') : skipped.has(key) ? 'not probed (pair selection)' : 'nothing to probe';
      // The state is the class (its colour); the table names the kind. Each cell stays small: 100 nodes make 30 000.
      return `<td class="${state}" data-from="${escapeHtml(from)}" data-to="${escapeHtml(to)}" title="${escapeHtml(`${from} → ${to}: ${state === detail ? state : `${state}: ${detail}`}`)}"></td>`;
    });
    return `<tr><th scope="row">${escapeHtml(from)}</th>${tds.join('')}</tr>`;
  });
  return `<section><h2>${escapeHtml(title)}</h2><p class="hint">rows send or connect, columns receive or listen; hover a cell for its detail</p>
<table class="grid" data-kind="${escapeHtml(kind)}"><thead><tr><th></th>${head}</tr></thead><tbody>
${rows.join('\n')}
</tbody></table></section>`;
}

/** The whole page. */
export function renderHtml(report: DoctorReport): string {
  // Nodes grouped as the pair selection groups them (rack or subnet), inventory order within a group.
  const groups = [...new Set(report.hosts.map((h) => groupOf(h)))];
  const nodes = groups.flatMap((g) => report.hosts.filter((h) => groupOf(h) === g).map((h) => h.name));
  const p = report.probes;
  const skipped = new Set((p?.pairs?.skipped ?? []).map((s) => `${s.from}\0${s.to}`));
  const grids = p
    ? [
        grid('IP-in-IP (protocol 4)', nodes, 'ipip', cells(p.ipip.map((x) => ({ ...x, state: pathState(x), detail: x.detail ?? x.outcome }))), skipped),
        grid(`UDP ${p.udp.port} (VXLAN)`, nodes, 'udp', cells(p.udp.paths.map((x) => ({ ...x, state: pathState(x), detail: x.detail ?? x.outcome }))), skipped),
        grid('TCP ports', nodes, 'tcp', cells(p.tcp.map((t) => ({ ...t, state: tcpState(t), detail: `${t.port} ${t.outcome}${t.detail ? ` (${t.detail})` : ''}` }))), skipped),
      ]
    : ['<p>No node pair was probed (fewer than two reachable hosts).</p>'];
  const causes = groupFailures(report);
  const causeHtml = causes.length === 0 ? '<p>No failure or warning on a node or a node pair.</p>' : `<pre class="causes">${escapeHtml(causes.flatMap((c) => causeLines(c, '')).join('\n'))}</pre>`;
  const unreachable = report.hosts.filter((h) => !h.reachable);
  const cluster = report.findings.filter((f) => !f.host && !f.pair);
  const s = report.summary;
  const coverage = p?.pairs ? `<p>Pairs: ${escapeHtml(p.pairs.rule)}. ${p.pairs.probed} directions probed, ${p.pairs.skipped.length} not probed${p.pairs.skipped.length > 0 ? ' (white cells; the list is probes.pairs.skipped in the JSON report)' : ''}.</p>` : '';
  const legend = (Object.keys(COLOURS) as CellState[]).map((k) => `<span class="key ${k}"></span> ${k}`).join(' &nbsp; ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(`ferry doctor: ${report.cluster ?? 'local'}`)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
pre.causes{background:#f6f6f6;padding:1em;white-space:pre-wrap}
table.grid{border-collapse:collapse;font-size:10px}
table.grid td{width:10px;height:10px;border:1px solid #fff;padding:0}
table.grid th{font-weight:normal;text-align:right;padding-right:4px;white-space:nowrap}
table.grid th.col{height:7em;vertical-align:bottom;padding:0}
table.grid th.col span{writing-mode:vertical-rl;transform:rotate(180deg)}
.key{display:inline-block;width:12px;height:12px;border:1px solid #999;vertical-align:middle}
.hint{color:#666}
${(Object.keys(COLOURS) as CellState[]).map((k) => `.${k}{background:${COLOURS[k]}}`).join('\n')}
</style></head><body>
<h1>${escapeHtml(`ferry doctor${report.cluster ? `: cluster ${report.cluster}` : ''}`)}</h1>
<p>${escapeHtml(`Generated ${report.generatedAt}, Kubernetes ${report.kubernetes.version} (${report.kubernetes.source}), ${report.hosts.length} host(s). Summary: ${s.pass} pass, ${s.warn} warn, ${s.fail} fail, ${s.unreachable} unreachable, exit ${report.exitCode}.`)}</p>
${unreachable.length > 0 ? `<h2>Unreachable</h2><ul>${unreachable.map((h) => `<li>${escapeHtml(`${h.name}: ${h.error ?? ''}`)}</li>`).join('')}</ul>` : ''}
<h2>Failures and warnings by cause</h2>
${causeHtml}
${cluster.length > 0 ? `<h2>Cluster</h2><ul>${cluster.map((f) => `<li>${escapeHtml(`${f.status.toUpperCase()} ${f.check}: ${f.message}`)}</li>`).join('')}</ul>` : ''}
<h2>Reachability</h2>
${coverage}<p>${legend}</p>
${grids.join('\n')}
<h2>Recommendation for install</h2>
<p>${escapeHtml(`encapsulation ${report.recommendation.encapsulation.toUpperCase()} (${report.recommendation.encapsulationReason}); iptables backend ${report.recommendation.iptablesBackend}${report.recommendation.cniMtu === undefined ? '' : `; CNI MTU ${report.recommendation.cniMtu}`}`)}</p>
</body></html>
`;
}
