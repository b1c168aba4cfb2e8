// The probe agent for real: three network namespaces on a bridge (all created here, removed after), real protocol-4,
// UDP and TCP packets, nftables rules that drop some of them. Needs root, iproute2, nftables, python3.
import { execFileSync, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Host } from '../../src/hosts/host.ts';
import { runProbes } from '../../src/probes/run.ts';
import { agentProgram, interpretReports, planProbes, type AgentReport, type ProbeNode } from '../../src/probes/plan.ts';
import { productFile } from '../../src/ship/embedded.ts';
import { testPlan } from '../checks/context.ts';
import { NetnsHost } from './netns-host.ts';

const prefix = `fdp${process.pid % 100000}`;
const sw = `${prefix}sw`;
const nodes: ProbeNode[] = [
  { name: 'cp-1', address: '198.51.100.11', roles: ['control-plane'] },
  { name: 'cp-2', address: '198.51.100.12', roles: ['control-plane'] },
  { name: 'w-1', address: '198.51.100.21', roles: ['worker'] },
];
const ns = (name: string) => `${prefix}-${name}`;
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
const inNs = (name: string, ...argv: string[]) => execFileSync('ip', ['netns', 'exec', ns(name), ...argv], { stdio: 'pipe' });
// The node's own interpreter, as gather.sh would find it (Debian's python3-minimal).
const python = execFileSync('sh', ['-c', 'command -v /usr/bin/python3 || command -v python3']).toString().trim();
const hosts = new Map<string, Host>(nodes.map((n) => [n.name, new NetnsHost(n.name, ns(n.name))]));
const probe = (durationMs = 1500) => runProbes(hosts, nodes, testPlan(), { python: new Map(nodes.map((n) => [n.name, python])), durationMs });
const created: string[] = [];

beforeAll(() => {
  ip('netns', 'add', sw);
  created.push(sw);
  ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge');
  ip('-n', sw, 'link', 'set', 'br0', 'up');
  nodes.forEach((n, i) => {
    ip('netns', 'add', ns(n.name));
    created.push(ns(n.name));
    ip('-n', ns(n.name), 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `p${i}`, 'netns', sw);
    ip('-n', sw, 'link', 'set', `p${i}`, 'master', 'br0', 'up');
    ip('-n', ns(n.name), 'addr', 'add', `${n.address}/24`, 'dev', 'eth0');
    ip('-n', ns(n.name), 'link', 'set', 'eth0', 'up');
    ip('-n', ns(n.name), 'link', 'set', 'lo', 'up');
  });
});

afterAll(() => {
  for (const name of created.reverse()) execFileSync('ip', ['netns', 'del', name], { stdio: 'pipe' });
});

describe('probe agents between three namespaces', () => {
  it('hear protocol 4 and UDP 4789 in all six directions, reach every planned TCP port, and stop long before their deadline', async () => {
    const started = performance.now();
    const r = await probe(6000);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(2000);
    expect(r.agentErrors).toEqual([]);
    expect(r.ipip.map((p) => p.outcome)).toEqual(Array(6).fill('ok'));
    expect(r.udp.paths.every((p) => p.outcome === 'ok')).toBe(true);
    expect(r.tcp.length).toBe(18);
    expect(r.tcp.filter((t) => t.outcome !== 'ok')).toEqual([]);
  });

  it('see protocol 4 dropped by nftables on w-1 only in the directions towards w-1', async () => {
    inNs('w-1', 'nft', 'add table inet fdtest; add chain inet fdtest in { type filter hook input priority 0; }; add rule inet fdtest in meta l4proto 4 drop');
    try {
      const r = await probe();
      const bad = r.ipip.filter((p) => p.outcome !== 'ok').map((p) => `${p.from}->${p.to}:${p.outcome}`);
      expect(bad).toEqual(['cp-1->w-1:dropped', 'cp-2->w-1:dropped']);
      expect(r.udp.paths.every((p) => p.outcome === 'ok')).toBe(true);
    } finally {
      inNs('w-1', 'nft', 'delete table inet fdtest');
    }
  });

  it('report a refused or dropped API-server port per pair, and a port held by another program as untestable', async () => {
    inNs('cp-2', 'nft', 'add table inet fdtest; add chain inet fdtest in { type filter hook input priority 0; }; add rule inet fdtest in tcp dport 6443 drop');
    const holder = spawn('ip', ['netns', 'exec', ns('cp-1'), python, '-c', 'import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0",2379)); s.listen(); print("up", flush=True); time.sleep(20)'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((ok, fail) => {
      holder.stdout.once('data', ok);
      holder.once('exit', (code) => fail(new Error(`port holder exited ${code}`)));
    });
    try {
      const r = await probe();
      const to = (host: string, port: number) => r.tcp.filter((t) => t.to === host && t.port === port).map((t) => `${t.from}:${t.outcome}`);
      expect(to('cp-2', 6443)).toEqual(['cp-1:timeout', 'w-1:timeout']);
      expect(to('cp-1', 6443)).toEqual(['cp-2:ok', 'w-1:ok']);
      expect(to('cp-1', 2379)).toEqual(['cp-2:port-in-use']);
    } finally {
      holder.kill();
      inNs('cp-2', 'nft', 'delete table inet fdtest');
    }
  });

  it('fall back to the ip tunnel variant for pairs touching a node without python', async () => {
    const python3 = new Map(nodes.map((n) => [n.name, n.name === 'w-1' ? undefined : python]));
    const r = await runProbes(hosts, nodes, testPlan(), { python: python3, tunnelCapable: new Map(nodes.map((n) => [n.name, true])), durationMs: 1500 });
    expect(r.agentErrors).toEqual([{ host: 'w-1', error: 'no python3 or platform-python on the node' }]);
    expect(r.ipip.filter((p) => p.from !== 'w-1' && p.to !== 'w-1').map((p) => p.outcome)).toEqual(['ok', 'ok']);
    // This kernel has no ipip, so the tunnel variant ran and says so; with ipip these pairs would be pinged.
    for (const p of r.ipip.filter((x) => x.from === 'w-1' || x.to === 'w-1'))
      expect(p).toMatchObject({ outcome: 'unknown', detail: expect.stringMatching(/^ip tunnel probe: .* setup-failed, .* setup-failed$/) });
  });

  it('keep to a tight rate and one connect at a time, and still settle every direction before their deadline', async () => {
    const limits = { packetsPerSecond: 20, maxConnects: 1, baseMs: 3000 };
    const configs = planProbes(nodes, testPlan(), `bound${process.pid}`, { durationMs: 8000, limits });
    const source = await productFile('src/probes/agent.py');
    const outputs = await Promise.all(nodes.map((n) => hosts.get(n.name)!.exec([python, '-'], { stdin: agentProgram(source, configs.get(n.name)!), readOnly: true })));
    const reports = new Map(nodes.map((n, i) => [n.name, JSON.parse(outputs[i]!.stdout) as AgentReport]));
    const r = interpretReports(nodes, configs, reports);
    expect([...r.ipip, ...r.udp.paths, ...r.tcp].filter((p) => p.outcome !== 'ok')).toEqual([]);
    for (const report of reports.values()) {
      expect(report.elapsedMs!).toBeLessThan(8000);
      // The bucket starts full with a tenth of a second's worth (at least one peer's two packets), then refills at the rate.
      expect(report.sent!).toBeLessThanOrEqual(Math.max(2, limits.packetsPerSecond / 10) + (limits.packetsPerSecond * report.elapsedMs!) / 1000 + 2);
    }
  });
});
