// A doctor report of 100 nodes for the report tests, generated (not captured): four racks of 25 nodes, each node's
// facts the real lab-node capture (test/fixtures/facts/debian12-lab-node), the probes planned by planProbes and
// selectPairs, answered by a model network (test/support/probe-network.ts) and read by interpretReports and
// buildReport, exactly as doctor does. The network: protocol 4 from rack r1 to rack r2 dropped, TCP 10250 refused on
// three nodes of rack r2.
import type { Role } from '../../src/config/inventory.ts';
import { buildReport, type DoctorReport, type Gathered } from '../../src/doctor/model.ts';
import { selectPairs, type PairMode } from '../../src/probes/pairs.ts';
import { interpretReports, planProbes, type AgentReport } from '../../src/probes/plan.ts';
import { testPlan } from '../checks/context.ts';
import { fixtureFacts } from '../facts/fixtures.ts';
import { agentReply, type ModelNetwork } from '../support/probe-network.ts';

export const RACK_SIZE = 25;
export const REFUSING_10250 = ['n050', 'n051', 'n052'];

/** n000…n099, rack r<i/25>, 10.0.<rack>.<10+i%25>; the first three control planes. */
export function scaleNodes(count = 100): { name: string; address: string; roles: Role[]; rack: string }[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `n${String(i).padStart(3, '0')}`,
    address: `10.0.${Math.floor(i / RACK_SIZE)}.${(i % RACK_SIZE) + 10}`,
    roles: i < 3 ? ['control-plane'] : ['worker'],
    rack: `r${Math.floor(i / RACK_SIZE)}`,
  }));
}

export const rackOf = (name: string) => `r${Math.floor(Number(name.slice(1)) / RACK_SIZE)}`;

export const scaleNetwork: ModelNetwork = {
  passes: (kind, from, to) => !(kind === 'ipip' && rackOf(from) === 'r1' && rackOf(to) === 'r2'),
  tcp: (_, to, port) => (port === 10250 && REFUSING_10250.includes(to) ? 'refused' : 'ok'),
};

/** The 100-node report, probing every pair or (rack) within racks and representatives across. */
export function scaleReport(pairs: PairMode = 'all', network: ModelNetwork = scaleNetwork, count = 100): DoctorReport {
  const nodes = scaleNodes(count);
  const plan = testPlan();
  const selection = selectPairs(nodes, { mode: pairs });
  const configs = planProbes(nodes, plan, 'fixture', { peers: selection.peers });
  const reports = new Map<string, AgentReport | string>([...configs].map(([name, c]) => [name, agentReply(c, network)]));
  const probes = { ...interpretReports(nodes, configs, reports, selection.peers), clock: [], pairs: selection.coverage };
  const gathered: Gathered[] = nodes.map((n) => ({ ...n, facts: fixtureFacts('debian12-lab-node', n.name) }));
  return buildReport({ cluster: 'scale', generatedAt: new Date('2026-12-07T08:00:00Z'), plan, gathered, probes, selection: {} });
}
