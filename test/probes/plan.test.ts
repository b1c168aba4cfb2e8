import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { agentProgram, interpretReports, planProbes, pythonLiteral, type AgentReport, type ProbeNode } from '../../src/probes/plan.ts';
import { clockOffset } from '../../src/probes/run.ts';
import { testPlan } from '../checks/context.ts';

const nodes: ProbeNode[] = [
  { name: 'cp-1', address: '10.0.0.11', roles: ['control-plane'] },
  { name: 'cp-2', address: '10.0.0.12', roles: ['control-plane'] },
  { name: 'w-1', address: '10.0.0.21', roles: ['worker'] },
];

describe('planProbes', () => {
  const configs = planProbes(nodes, testPlan(), 'abc123', { durationMs: 2500 });
  it('has every node send protocol 4 and UDP 4789 (Calico VXLAN) to every peer', () => {
    expect(configs.get('w-1')).toMatchObject({ ipip: true, udpPort: 4789, index: 2, peers: [{ name: 'cp-1', address: '10.0.0.11', index: 0 }, { name: 'cp-2', address: '10.0.0.12', index: 1 }] });
  });
  it('listens on control-plane ports only where peers must reach them, never on loopback-only ones', () => {
    expect(configs.get('cp-1')!.listen).toEqual([6443, 2379, 2380, 10250, 179]);
    expect(configs.get('w-1')!.listen).toEqual([10250, 179]);
  });
  it('connects workers to the API server and BGP only, control planes to etcd and kubelets too', () => {
    const w = configs.get('w-1')!.connect.map((c) => `${c.to}:${c.port}`);
    expect(w).toEqual(['cp-1:6443', 'cp-1:179', 'cp-2:6443', 'cp-2:179']);
    expect(configs.get('cp-1')!.connect.map((c) => `${c.to}:${c.port}`)).toEqual(['cp-2:6443', 'cp-2:2379', 'cp-2:2380', 'cp-2:10250', 'cp-2:179', 'w-1:10250', 'w-1:179']);
  });
  it('uses UDP 8472 for Flannel and Cilium VXLAN', () => {
    expect(planProbes(nodes, testPlan({ cni: 'flannel' }), 'x').get('cp-1')!.udpPort).toBe(8472);
  });
  it('prepends the config as a Python literal that python3 reads back as the same data', () => {
    const program = agentProgram('import sys\nsys.stdout.write(repr(CONFIG["peers"][0]["name"]) + " " + repr(CONFIG["ipip"]) + " " + str(len(CONFIG["connect"])))\n', configs.get('w-1')!);
    const out = execFileSync('python3', ['-'], { input: program }).toString();
    expect(out).toBe("'cp-1' True 4");
  });
  it.each([
    [{ a: [1, 'x"y'], b: true, c: null }, '{"a": [1, "x\\"y"], "b": True, "c": None}'],
    ['ünï\n', '"ünï\\n"'],
  ])('writes %j as the Python literal %s', (value, want) => expect(pythonLiteral(value)).toBe(want));
});

describe('interpretReports', () => {
  const configs = planProbes(nodes.slice(0, 2), testPlan(), 'abc', { durationMs: 2500 });
  const base = (host: string, heard: string[]): AgentReport => ({ host, ipipFrom: heard, udpFrom: heard, listen: { '6443': 'bound', '2379': 'bound', '2380': 'bound', '10250': 'bound', '179': 'bound' }, tcp: {}, sendErrors: {}, errors: [] });
  it('gives each direction its own outcome: heard, dropped, refused by the sender, or unknown', () => {
    const reports = new Map<string, AgentReport | string>([
      ['cp-1', { ...base('cp-1', []), tcp: { 'cp-2:6443': 'ok', 'cp-2:2379': 'timeout', 'cp-2:2380': 'refused' } }],
      ['cp-2', { ...base('cp-2', ['cp-1']), sendErrors: { 'ipip:cp-1': 'Operation not permitted' }, listen: { '6443': 'bound', '2379': 'bound', '2380': 'in-use' }, tcp: { 'cp-1:6443': 'ok' } }],
    ]);
    const r = interpretReports(nodes.slice(0, 2), configs, reports);
    expect(r.ipip).toEqual([
      { from: 'cp-1', to: 'cp-2', outcome: 'ok' },
      { from: 'cp-2', to: 'cp-1', outcome: 'send-error', detail: 'Operation not permitted' },
    ]);
    expect(r.tcp.filter((t) => t.from === 'cp-1').slice(0, 3).map((t) => [t.port, t.outcome])).toEqual([[6443, 'ok'], [2379, 'timeout'], [2380, 'port-in-use']]);
  });
  it('marks every direction touching a node without an agent as unknown, and says why', () => {
    const reports = new Map<string, AgentReport | string>([['cp-1', base('cp-1', [])], ['cp-2', 'no python3 or platform-python on the node']]);
    const r = interpretReports(nodes.slice(0, 2), configs, reports);
    expect(r.ipip.map((p) => p.outcome)).toEqual(['unknown', 'unknown']);
    expect(r.agentErrors).toEqual([{ host: 'cp-2', error: 'no python3 or platform-python on the node' }]);
  });
});

describe('clockOffset', () => {
  it.each([
    [1000, 1550, 1100, 500, 50],
    [1000, 990, 1020, -20, 10],
  ])('sent %i, node %i, back %i → offset %i ± %i', (sent, remote, back, offset, unc) => {
    expect(clockOffset(sent, remote, back)).toEqual({ offsetMs: offset, uncertaintyMs: unc });
  });
});
