import { describe, expect, it } from 'vitest';
import { runClusterChecks } from '../../src/checks/registry.ts';
import { recommend } from '../../src/checks/recommend.ts';
import type { ClusterContext, Plan } from '../../src/checks/types.ts';
import type { Facts } from '../../src/facts/types.ts';
import type { PathResult, ProbeResults } from '../../src/probes/types.ts';
import { fixtureFacts } from '../facts/fixtures.ts';
import { nodeCtx, testPlan } from './context.ts';

// Three copies of the real Debian admin-host facts, made distinct the way three real nodes are.
function threeNodes(change: (name: string, f: Facts) => void = () => {}): Map<string, Facts> {
  return new Map(
    ['cp-1', 'cp-2', 'w-1'].map((name, i) => {
      const f = fixtureFacts('debian12-admin-host', name);
      f.identity.hostname = name;
      f.identity.machineId = `${i}`.repeat(32);
      f.links = f.links.map((l) => (l.name === 'eth0' ? { ...l, mac: `02:fc:00:00:00:0${i + 1}` } : l));
      change(name, f);
      return [name, f];
    }),
  );
}

const allOk = (names: string[]): PathResult[] => names.flatMap((a) => names.filter((b) => b !== a).map((b) => ({ from: a, to: b, outcome: 'ok' as const })));

function ctx(facts: Map<string, Facts>, probes?: ProbeResults, plan: Plan = testPlan()): ClusterContext {
  const nodes = [...facts.keys()].map((n) => nodeCtx(n, n.startsWith('cp') ? ['control-plane'] : ['worker'], plan, ''));
  return { nodes, facts, probes, plan };
}

function probes(ipip: PathResult[], over: Partial<ProbeResults> = {}): ProbeResults {
  const names = ['cp-1', 'cp-2', 'w-1'];
  return { ipip, udp: { port: 4789, paths: allOk(names) }, tcp: [], clock: [], agentErrors: [], ...over };
}

describe('unique-identity', () => {
  it('passes distinct nodes and does not call unknown product_uuids duplicates', () => {
    expect(runClusterChecks(ctx(threeNodes()), { only: ['unique-identity'] })).toEqual([expect.objectContaining({ status: 'pass' })]);
  });
  it('fails every node sharing a machine-id, with the regeneration command', () => {
    const facts = threeNodes((name, f) => { if (name !== 'w-1') f.identity.machineId = 'deadbeef'.repeat(4); });
    const found = runClusterChecks(ctx(facts), { only: ['unique-identity'] });
    expect(found.map((f) => [f.host, f.status])).toEqual([['cp-1', 'fail'], ['cp-2', 'fail']]);
    expect(found[0]!.message).toBe(`machine-id ${'deadbeef'.repeat(4)} is shared by cp-1, cp-2`);
    expect(found[0]!.remedy).toContain('systemd-machine-id-setup');
  });
});

describe('mtu', () => {
  it('passes equal MTUs and states the CNI MTU for both encapsulations', () => {
    expect(runClusterChecks(ctx(threeNodes()), { only: ['mtu'] })[0]!.message).toBe("every node's cluster interface has MTU 1400: CNI MTU 1380 with IP-in-IP, 1350 with VXLAN");
  });
  it('warns the node whose MTU differs', () => {
    const facts = threeNodes((name, f) => { if (name === 'w-1') f.links = f.links.map((l) => (l.name === 'eth0' ? { ...l, mtu: 9000 } : l)); });
    expect(runClusterChecks(ctx(facts), { only: ['mtu'] })).toEqual([expect.objectContaining({ host: 'w-1', status: 'warn' })]);
  });
});

describe('clock-skew', () => {
  it('warns a node off by more than 0.5 s beyond its measurement uncertainty, not one within it', () => {
    const clock = [
      { host: 'cp-1', offsetMs: 3, uncertaintyMs: 2 },
      { host: 'cp-2', offsetMs: -4, uncertaintyMs: 2 },
      { host: 'w-1', offsetMs: 1800, uncertaintyMs: 5 },
    ];
    expect(runClusterChecks(ctx(threeNodes(), probes([], { clock })), { only: ['clock-skew'] })).toEqual([expect.objectContaining({ host: 'w-1', status: 'warn', message: 'clock is 1.80 s off the other nodes (±0.01 s)' })]);
    const near = clock.map((c) => (c.host === 'w-1' ? { ...c, offsetMs: 520, uncertaintyMs: 40 } : c));
    expect(runClusterChecks(ctx(threeNodes(), probes([], { clock: near })), { only: ['clock-skew'] })[0]!.status).toBe('pass');
  });
});

describe('IP-in-IP findings and the encapsulation recommendation', () => {
  const names = ['cp-1', 'cp-2', 'w-1'];
  const dropped = allOk(names).map((p) => (p.to === 'w-1' ? { ...p, outcome: 'dropped' as const } : p));

  it('recommends IPIP only when protocol 4 passed on every direction', () => {
    const c = ctx(threeNodes(), probes(allOk(names)));
    expect(recommend(c)).toMatchObject({ encapsulation: 'ipip', encapsulationReason: 'protocol 4 passed on all 6 directions', iptablesBackend: 'NFT', cniMtu: 1380 });
    expect(runClusterChecks(c, { only: ['ipip'] })).toEqual([{ check: 'ipip', status: 'pass', message: 'IP-in-IP (protocol 4) passes in all 6 directions' }]);
  });
  it('names the failing directions, recommends VXLAN, and fails them only when the inventory demands ipip', () => {
    const auto = ctx(threeNodes(), probes(dropped));
    expect(recommend(auto)).toMatchObject({ encapsulation: 'vxlan', cniMtu: 1350 });
    expect(recommend(auto).encapsulationReason).toBe('protocol 4 did not pass on 2 direction(s): cp-1→w-1, cp-2→w-1');
    const found = runClusterChecks(auto, { only: ['ipip'] });
    expect(found.map((f) => [f.pair, f.status])).toEqual([[{ from: 'cp-1', to: 'w-1' }, 'warn'], [{ from: 'cp-2', to: 'w-1' }, 'warn']]);
    const forced = runClusterChecks(ctx(threeNodes(), probes(dropped), testPlan({ encapsulation: 'ipip' })), { only: ['ipip'] });
    expect(forced.map((f) => f.status)).toEqual(['fail', 'fail']);
  });
  it('fails a blocked VXLAN port when VXLAN is what install will use', () => {
    const udp = { port: 4789, paths: allOk(names).map((p) => (p.from === 'w-1' ? { ...p, outcome: 'dropped' as const } : p)) };
    const found = runClusterChecks(ctx(threeNodes(), probes(dropped, { udp })), { only: ['vxlan-udp'] });
    expect(found.map((f) => f.status)).toEqual(['fail', 'fail']);
    expect(found[0]!.remedy).toContain('udp dport 4789 accept');
  });
  it('recommends the Auto iptables backend when nodes differ', () => {
    const facts = threeNodes((name, f) => { if (name === 'w-1') { f.iptables.mode = 'legacy'; f.iptables.legacyRules = 4; } });
    expect(recommend(ctx(facts, probes(allOk(names)))).iptablesBackend).toBe('Auto');
  });
});

describe('tcp-reach findings', () => {
  it('fails refused and timed-out ports, warns untestable ones', () => {
    const tcp = [
      { from: 'w-1', to: 'cp-1', port: 6443, outcome: 'ok' as const },
      { from: 'w-1', to: 'cp-2', port: 6443, outcome: 'timeout' as const },
      { from: 'cp-1', to: 'cp-2', port: 2379, outcome: 'refused' as const },
      { from: 'cp-1', to: 'cp-2', port: 2380, outcome: 'port-in-use' as const },
    ];
    const found = runClusterChecks(ctx(threeNodes(), probes(allOk(['cp-1', 'cp-2', 'w-1']), { tcp })), { only: ['tcp-reach'] });
    expect(found.map((f) => [f.message, f.status])).toEqual([
      ['w-1 → cp-2:6443 timed out (dropped on the way)', 'fail'],
      ['cp-1 → cp-2:2379 refused (a firewall rejects it, or the listener never started)', 'fail'],
      ['cp-2:2380 is taken by another program, so cp-1 → cp-2:2380 could not be tested', 'warn'],
    ]);
  });
});
