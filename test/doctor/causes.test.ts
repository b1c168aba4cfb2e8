import { describe, expect, it } from 'vitest';
import { causeLines, groupFailures } from '../../src/doctor/causes.ts';
import { renderTable } from '../../src/doctor/report.ts';
import { openNetwork } from '../support/probe-network.ts';
import { RACK_SIZE, REFUSING_10250, scaleReport } from './scale-report.ts';

const all = scaleReport('all');
const rack = scaleReport('rack');
const CONTROL_PLANES = 3;

describe('groupFailures on a 100-node report (protocol 4 dropped from rack r1 to r2, 10250 refused on three r2 nodes)', () => {
  it.each([
    ['every pair: every r1 → r2 direction', all, 'IP-in-IP (protocol 4) dropped', RACK_SIZE * RACK_SIZE, 'between', [{ name: 'rack r1 → rack r2', count: RACK_SIZE * RACK_SIZE }]],
    ['rack: only the representatives cross racks', rack, 'IP-in-IP (protocol 4) dropped', 2 * 2, 'between', [{ name: 'rack r1 → rack r2', count: 4 }]],
    ['every pair: each control plane to each refusing node', all, 'TCP 10250 refused', CONTROL_PLANES * REFUSING_10250.length, 'towards', REFUSING_10250.map((name) => ({ name, count: CONTROL_PLANES }))],
  ])('%s', (_, report, title, count, label, items) => {
    const cause = groupFailures(report).find((c) => c.title === title)!;
    expect(cause.count).toBe(count);
    expect(cause.findings).toHaveLength(count);
    expect(cause.where.find((w) => w.label === label)!.items).toEqual(items);
  });

  it('counts a node finding once per node, however many findings the check made on it', () => {
    const ids = groupFailures(all).find((c) => c.title === 'unique-identity')!;
    expect(ids.count).toBe(100);
    expect(ids.where[0]!.items).toHaveLength(100);
  });

  it('puts failures before warnings, the largest first within each', () => {
    const causes = groupFailures(all);
    const rank = causes.map((c) => (c.status === 'fail' ? 0 : 1));
    expect(rank).toEqual([...rank].sort());
    const warns = causes.filter((c) => c.status === 'warn').map((c) => c.count);
    expect(warns).toEqual([...warns].sort((a, b) => b - a));
  });

  it('lists eight names per line and counts the rest', () => {
    const dropped = groupFailures(all).find((c) => c.title === 'IP-in-IP (protocol 4) dropped')!;
    expect(causeLines(dropped)).toContain(`        towards: n050 (25), n051 (25), n052 (25), n053 (25), n054 (25), n055 (25), n056 (25), n057 (25), and ${RACK_SIZE - 8} more`);
  });
});

describe('the text table at 100 nodes', () => {
  it.each([
    ['every pair', all],
    ['rack', rack],
  ])('%s: one block per cause instead of a line per path or host, with the summary', (_, report) => {
    const table = renderTable(report);
    const causes = groupFailures(report);
    const pairLines = report.findings.filter((f) => f.pair).length;
    expect(table.split('\n').length).toBeLessThan(100);
    expect(pairLines).toBeGreaterThan(0);
    for (const c of causes) expect(table).toContain(`${c.status.toUpperCase()}  ${c.title}: ${c.count} ${c.unit}`);
    expect(table).not.toContain('n099 (10.0.3.34');
    expect(table).toContain(`summary: ${report.summary.pass} pass`);
  });

  it('says in rack mode how many directions were left out and that they never pass', () => {
    const table = renderTable(rack);
    const skipped = rack.probes!.pairs!.skipped.length;
    expect(skipped + rack.probes!.pairs!.probed).toBe(100 * 99);
    expect(table).toContain(`pairwise probes left out ${skipped} of 9900 directions (--pairs rack:`);
  });

  it('never counts a skipped direction as passing: protocol 4 open on every probed path in rack mode is still unproven', () => {
    const open = scaleReport('rack', openNetwork);
    expect(open.probes!.ipip.every((p) => p.outcome === 'ok')).toBe(true);
    expect(open.recommendation).toMatchObject({ encapsulation: 'vxlan', ipipProbe: 'unproven' });
    expect(open.recommendation.encapsulationReason).toContain(`${open.probes!.pairs!.skipped.length} direction(s) were not probed (--pairs rack)`);
    expect(scaleReport('all', openNetwork).recommendation).toMatchObject({ encapsulation: 'ipip', ipipProbe: 'passed' });
  });
});
