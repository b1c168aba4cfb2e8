import { describe, expect, it } from 'vitest';
import { renderSummary, summarize, type DemoStep } from '../../src/demo/summary.ts';

const ok = (id: string, title: string, ms: number, detail: string): DemoStep => ({ id, title, status: 'ok', ms, detail });

describe('the demo summary', () => {
  it('is ok with skipped steps, and says why each was skipped', () => {
    const s = summarize(
      [ok('resolve', 'Resolve the example', 400, 'Kubernetes 1.33.13'), { id: 'lab', title: 'Boot 3 lab nodes', status: 'skipped', ms: 0, detail: 'this machine lacks root (running as uid 1000)' }],
      { ran: [], skipped: [] }, 12_345,
    );
    expect(s.ok).toBe(true);
    const text = renderSummary(s);
    expect(text).toContain('ferry demo: everything it could do succeeded in 12.3 s');
    expect(text).toMatch(/^ {2}ok {4}Resolve the example {2}\s+0\.4 s {2}Kubernetes 1\.33\.13$/m);
    expect(text).toMatch(/^ {2}skip {2}Boot 3 lab nodes .*this machine lacks root \(running as uid 1000\)$/m);
  });

  it('fails when a step failed, and lists the phases run and skipped with reasons', () => {
    const s = summarize(
      [ok('bundle', 'Build the bundle', 5000, 'dir'), { id: 'install', title: 'Install', status: 'failed', ms: 900, detail: 'ferry install exited 7' }],
      { ran: ['preflight'], skipped: [{ id: 'kubeadm-init', reason: 'kubelet cannot run' }] }, 6000,
    );
    expect(s.ok).toBe(false);
    const text = renderSummary(s);
    expect(text).toContain('ferry demo: FAILED in 6.0 s');
    expect(text).toMatch(/^ {2}FAIL {2}Install .*ferry install exited 7$/m);
    expect(text).toContain('install phases run on the lab nodes: preflight');
    expect(text).toContain('install phase skipped: kubeadm-init: kubelet cannot run');
  });

  it('prints how to reach kept nodes and take them down', () => {
    const s = summarize([ok('lab', 'Boot', 1, 'up')], { ran: [], skipped: [] }, 1, {
      nodes: [{ name: 'node1', address: '10.200.1.11' }], ssh: 'ssh -i /x root@10.200.1.11', inventory: '/w/cluster.yaml', down: 'ferry demo --down',
    });
    const text = renderSummary(s);
    expect(text).toContain('lab nodes kept up: node1 10.200.1.11');
    expect(text).toContain('  take down:  ferry demo --down');
    expect(JSON.parse(JSON.stringify(s))).toMatchObject({ type: 'summary', ok: true, kept: { down: 'ferry demo --down' } });
  });
});
