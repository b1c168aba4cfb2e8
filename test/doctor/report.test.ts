import { describe, expect, it } from 'vitest';
import { buildReport, type Gathered } from '../../src/doctor/model.ts';
import { renderJson, renderTable } from '../../src/doctor/report.ts';
import { fixtureFacts } from '../facts/fixtures.ts';
import { testPlan } from '../checks/context.ts';

const at = new Date('2026-11-23T12:00:00Z');

function gathered(): Gathered[] {
  return [
    { name: 'cp-1', address: '192.0.2.2', roles: ['control-plane'], facts: fixtureFacts('debian12-admin-host', 'cp-1') },
    { name: 'gpu-1', address: '10.0.0.21', roles: ['gpu', 'worker'], facts: fixtureFacts('rocky8-gpu-reconstructed', 'gpu-1') },
  ];
}

describe('buildReport', () => {
  it('exits 4 when a check fails and every host answered', () => {
    const r = buildReport({ cluster: 'lab', generatedAt: at, plan: testPlan(), gathered: gathered(), probes: undefined, selection: {} });
    expect(r.summary.fail).toBeGreaterThan(0);
    expect(r.exitCode).toBe(4);
    expect(r.hosts.map((h) => [h.name, h.reachable, h.os])).toEqual([['cp-1', true, 'Debian GNU/Linux 12 (bookworm)'], ['gpu-1', true, 'Rocky Linux 8.6 (Green Obsidian)']]);
  });
  it('exits 5 when a host is unreachable, and still reports the others', () => {
    const g: Gathered[] = [...gathered(), { name: 'w-9', address: '10.0.0.99', roles: ['worker'], error: 'w-9: connect ETIMEDOUT 10.0.0.99:22' }];
    const r = buildReport({ cluster: 'lab', generatedAt: at, plan: testPlan(), gathered: g, probes: undefined, selection: {} });
    expect(r.exitCode).toBe(5);
    expect(r.summary.unreachable).toBe(1);
    expect(r.findings.some((f) => f.host === 'gpu-1')).toBe(true);
  });
  it('exits 0 with warnings only', () => {
    const r = buildReport({ cluster: 'lab', generatedAt: at, plan: testPlan(), gathered: gathered().slice(0, 1), probes: undefined, selection: { only: ['cgroup-version', 'time-sync', 'swap'] } });
    expect(r.summary).toEqual({ pass: 1, warn: 2, fail: 0, unreachable: 0 });
    expect(r.exitCode).toBe(0);
  });
});

describe('renderers', () => {
  const g: Gathered[] = [...gathered(), { name: 'w-9', address: '10.0.0.99', roles: ['worker'], error: 'w-9: connect ETIMEDOUT 10.0.0.99:22' }];
  const probes = {
    ipip: [{ from: 'cp-1', to: 'gpu-1', outcome: 'dropped' as const }, { from: 'gpu-1', to: 'cp-1', outcome: 'ok' as const }],
    udp: { port: 4789, paths: [{ from: 'cp-1', to: 'gpu-1', outcome: 'ok' as const }, { from: 'gpu-1', to: 'cp-1', outcome: 'ok' as const }] },
    tcp: [],
    clock: [],
    agentErrors: [],
  };
  const report = buildReport({ cluster: 'lab', generatedAt: at, plan: testPlan(), gathered: g, probes, selection: { only: ['swap', 'ipip', 'cgroup-driver'] } });
  it('groups the table by host, then pair failures by cause, and ends with the recommendation and summary', () => {
    const table = renderTable(report);
    expect(table).toContain('ferry doctor: cluster lab, Kubernetes 1.33 (default), 3 host(s)');
    expect(table).toContain('w-9 (10.0.0.99, worker)  UNREACHABLE: w-9: connect ETIMEDOUT 10.0.0.99:22');
    expect(table).toMatch(/node pairs: failures and warnings by cause\n  WARN  IP-in-IP \(protocol 4\) dropped: 1 path\n\s+IP-in-IP \(protocol 4\) from cp-1 never reached gpu-1\n\s+fix: allow IP protocol 4/);
    expect(table).toContain('encapsulation:    VXLAN (protocol 4 did not pass on 1 direction(s): cp-1→gpu-1)');
    expect(table.trimEnd().split('\n').at(-1)).toBe(`summary: ${report.summary.pass} pass, ${report.summary.warn} warn, ${report.summary.fail} fail, 1 unreachable → exit 5`);
    expect(table.indexOf('cp-1 (')).toBeLessThan(table.indexOf('gpu-1 ('));
  });
  it('prints JSON with the documented top-level shape', () => {
    const json = JSON.parse(renderJson(report));
    expect(Object.keys(json)).toEqual(['reportVersion', 'generatedAt', 'cluster', 'kubernetes', 'hosts', 'findings', 'probes', 'recommendation', 'summary', 'exitCode']);
    expect(json.findings[0]).toEqual(expect.objectContaining({ check: expect.any(String), status: expect.stringMatching(/^(pass|warn|fail)$/), message: expect.any(String) }));
  });
});
