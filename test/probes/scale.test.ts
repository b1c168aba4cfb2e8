// Doctor at scale: the admin host's round trips per node stay constant whatever the cluster's size, and the pair
// probes cover every directed pair or list it as skipped. Nodes are SimulatedNode hosts (a real facts capture, agents
// answered by a model network), so this counts what doctor itself sends.
import { describe, expect, it } from 'vitest';
import type { Role } from '../../src/config/inventory.ts';
import { runDoctor, type DoctorTarget } from '../../src/doctor/doctor.ts';
import { groupOf, selectPairs, type PairMode } from '../../src/probes/pairs.ts';
import { agentDeadlineMs, planProbes } from '../../src/probes/plan.ts';
import { TUNNEL_PAIRS_PER_NODE } from '../../src/probes/run.ts';
import { testPlan } from '../checks/context.ts';
import { fixtureText } from '../facts/fixtures.ts';
import { openNetwork } from '../support/probe-network.ts';
import { SimulatedNode } from '../support/simulated-node.ts';

/** `n` nodes in racks of 25 (10.0.<rack>.<i>), the first three control planes. */
function cluster(n: number, options: { racks?: boolean } = {}): DoctorTarget[] {
  return Array.from({ length: n }, (_, i) => {
    const rack = Math.floor(i / 25);
    const roles: Role[] = i < 3 ? ['control-plane'] : ['worker'];
    return { name: `n${String(i).padStart(3, '0')}`, address: `10.0.${rack}.${(i % 25) + 10}`, roles, ...(options.racks ? { rack: `r${rack}` } : {}) };
  });
}

const withPython = fixtureText('debian12-lab-node');
const withoutPython = withPython.replace('@@ferry python\n/usr/bin/python3\n', '@@ferry python\n');

async function doctorOn(targets: DoctorTarget[], pairs: PairMode, noPython: ReadonlySet<string> = new Set()) {
  const hosts = new Map(targets.map((t) => [t.name, new SimulatedNode(t.name, noPython.has(t.name) ? withoutPython : withPython, openNetwork)]));
  const report = await runDoctor({ cluster: 'scale', targets, plan: testPlan(), opened: { hosts, close: async () => {} }, now: () => new Date(), selection: {}, concurrency: 30, pairs });
  return { report, hosts };
}

describe('round trips per node at N nodes', () => {
  it.each([
    ['1 node', 1, 'all', ['sh -s']],
    ['10 nodes', 10, 'all', ['sh -s', 'date +%s%N', 'timeout /usr/bin/python3']],
    ['100 nodes', 100, 'all', ['sh -s', 'date +%s%N', 'timeout /usr/bin/python3']],
    ['500 nodes, every pair', 500, 'all', ['sh -s', 'date +%s%N', 'timeout /usr/bin/python3']],
    ['500 nodes, --pairs rack', 500, 'rack', ['sh -s', 'date +%s%N', 'timeout /usr/bin/python3']],
  ] as const)('%s: each node gets the same fixed commands, and every directed pair is probed or listed as skipped', async (_, n, mode, commands) => {
    const { report, hosts } = await doctorOn(cluster(n, { racks: true }), mode);
    for (const host of hosts.values()) expect(host.calls.sort()).toEqual([...commands].sort());
    const probed = new Set(report.probes?.ipip.map((p) => `${p.from}>${p.to}`) ?? []);
    const skipped = new Set(report.probes?.pairs?.skipped.map((p) => `${p.from}>${p.to}`) ?? []);
    expect(probed.size + skipped.size).toBe(n * (n - 1));
    for (const a of hosts.keys()) for (const b of hosts.keys()) if (a !== b) expect(probed.has(`${a}>${b}`) !== skipped.has(`${a}>${b}`)).toBe(true);
    expect(report.probes?.udp.paths.length ?? 0).toBe(probed.size);
    expect(report.probes?.ipip.every((p) => p.outcome === 'ok') ?? true).toBe(true);
  }, 60_000);

  it('bounds the ip tunnel fallback, so a node without python costs a fixed number of extra round trips', async () => {
    const targets = cluster(40);
    const { report, hosts } = await doctorOn(targets, 'all', new Set(['n010', 'n011']));
    // Facts and clock, then at most TUNNEL_PAIRS_PER_NODE tunnel probes instead of the agent; the others add tunnels to their agent.
    expect([hosts.get('n010')!.calls.length, hosts.get('n011')!.calls.length]).toEqual([2 + TUNNEL_PAIRS_PER_NODE, 2 + TUNNEL_PAIRS_PER_NODE]);
    expect(Math.max(...[...hosts.values()].map((h) => h.calls.length))).toBeLessThanOrEqual(3 + TUNNEL_PAIRS_PER_NODE);
    // Directions touching n010 or n011: 39 peers each, both ways, their shared pair counted once; minus the re-probed pairs.
    const untested = 2 * 39 * 2 - 2;
    expect(report.probes!.ipip.filter((p) => p.outcome === 'unknown')).toHaveLength(untested - 2 * 2 * TUNNEL_PAIRS_PER_NODE);
  });
});

describe('selectPairs', () => {
  it.each([
    ['rack mode, 4 racks of 25, named', cluster(100, { racks: true }), 4],
    ['rack mode, grouped by /24 without rack:', cluster(100), 4],
    ['rack mode, 20 racks', cluster(500, { racks: true }), 20],
    ['rack mode, one rack', cluster(20, { racks: true }), 1],
  ])('%s: probed + skipped = every directed pair, symmetric, and a worker probes at most its rack, the other racks\' representatives and the control planes', (_, nodes, racks) => {
    const { peers, coverage } = selectPairs(nodes, { mode: 'rack' });
    const n = nodes.length;
    expect(coverage.groups).toHaveLength(racks);
    expect(coverage.probed + coverage.skipped.length).toBe(n * (n - 1));
    for (const [a, list] of peers) for (const b of list) expect(peers.get(b)).toContain(a);
    const biggest = Math.max(...coverage.groups.map((g) => g.nodes.length));
    // Control planes are probed by every node (every node must reach the API server); workers by their rack and representatives.
    for (const node of nodes) expect(peers.get(node.name)!.length).toBeLessThanOrEqual(node.roles.includes('control-plane') ? n - 1 : biggest - 1 + 2 * (racks - 1) + 3);
    const skipped = new Set(coverage.skipped.map((s) => `${s.from}>${s.to}`));
    for (const [a, list] of peers) for (const b of list) expect(skipped.has(`${a}>${b}`)).toBe(false);
  });

  it.each([
    ['the inventory\'s rack first', { address: '10.0.3.7', rack: 'b2' }, 'rack b2'],
    ['an IPv4 address without rack: its /24', { address: '10.0.3.7' }, 'subnet 10.0.3.0/24'],
    ['a full IPv6 address: its /64', { address: 'fd00:1:2:3:4:5:6:7' }, 'subnet fd00:1:2:3::/64'],
    ['a compressed IPv6 address', { address: 'fd00:1::5' }, 'subnet fd00:1::/64'],
  ])('groups by %s', (_, node, group) => {
    expect(groupOf({ name: 'x', roles: ['worker'], ...node })).toBe(group);
  });

  it('probes every pair by default and skips none', () => {
    const { peers, coverage } = selectPairs(cluster(30), { mode: 'all' });
    expect([coverage.probed, coverage.skipped]).toEqual([30 * 29, []]);
    expect([...peers.values()].every((l) => l.length === 29)).toBe(true);
  });

  it('takes control planes as representatives first, then inventory order', () => {
    const { coverage } = selectPairs(cluster(60, { racks: true }), { mode: 'rack' });
    expect(coverage.groups.map((g) => g.representatives)).toEqual([['n000', 'n001'], ['n025', 'n026'], ['n050', 'n051']]);
  });
});

describe('agent limits', () => {
  it.each([
    ['3 nodes: the small-cluster deadline', 2, 7, 3000],
    ['100 peers, 250 connects: 3 rounds of 200 packets at 2000/s, 4 waves of 64 connects', 99, 250, Math.ceil(297 + 4000 + 1000)],
    ['499 peers, 1200 connects', 499, 1200, Math.ceil(1497 + 19 * 1000 + 1000)],
  ])('%s → %i ms', (_, peers, connects, want) => {
    expect(agentDeadlineMs(peers, connects)).toBe(want);
  });

  it('gives every agent the same deadline (the largest) and the rate and connect bounds', () => {
    const nodes = cluster(100);
    const configs = [...planProbes(nodes, testPlan(), 'r').values()];
    const deadlines = configs.map((c) => agentDeadlineMs(c.peers.length, c.connect.length));
    expect(new Set(configs.map((c) => c.durationMs))).toEqual(new Set([Math.max(...deadlines)]));
    expect(configs.every((c) => c.packetsPerSecond === 2000 && c.maxConnects === 64)).toBe(true);
  });

  it('starts each agent\'s connects at the peers after itself, so no node takes every first connect', () => {
    const firsts = [...planProbes(cluster(10), testPlan(), 'r').values()].map((c) => c.connect[0]?.to);
    expect(new Set(firsts).size).toBeGreaterThan(2);
  });
});
