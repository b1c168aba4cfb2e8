// A model network for pair-probe tests: what each node's agent would report, given which paths the network lets
// through. Pure; it stands in for the agents (agent.py itself is tested between namespaces in agent.lab.test.ts).
import type { AgentConfig, AgentReport } from '../../src/probes/plan.ts';

export interface ModelNetwork {
  /** Whether protocol 4 (kind ipip) or the VXLAN UDP port (kind udp) passes from `from` to `to`. */
  passes(kind: 'ipip' | 'udp', from: string, to: string): boolean;
  /** How a TCP connect from `from` to `to`:`port` ends. */
  tcp(from: string, to: string, port: number): 'ok' | 'refused' | 'timeout';
}

/** Every path open. */
export const openNetwork: ModelNetwork = { passes: () => true, tcp: () => 'ok' };

/** The report the agent with `config` prints on `network` (its peers run agents with the same, symmetric, peer sets). */
export function agentReply(config: AgentConfig, network: ModelNetwork): AgentReport {
  const heard = (kind: 'ipip' | 'udp') => config.peers.filter((p) => network.passes(kind, p.name, config.me)).map((p) => p.name);
  return {
    host: config.me,
    ipipFrom: heard('ipip'),
    udpFrom: heard('udp'),
    listen: Object.fromEntries(config.listen.map((port) => [String(port), 'bound'])),
    tcp: Object.fromEntries(config.connect.map((c) => [`${c.to}:${c.port}`, network.tcp(config.me, c.to, c.port)])),
    sendErrors: {},
    errors: [],
  };
}

/** The AgentConfig inside a program ferry sends to `python3 -` (its first line, a Python literal of plain data). */
export function configOfProgram(program: string): AgentConfig {
  const literal = program.split('\n', 1)[0]!.replace(/^CONFIG = /, '');
  // Names and addresses never hold these words, so turning Python's constants into JSON's is exact here.
  return JSON.parse(literal.replace(/\bTrue\b/g, 'true').replace(/\bFalse\b/g, 'false').replace(/\bNone\b/g, 'null')) as AgentConfig;
}
