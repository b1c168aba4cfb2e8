// A Host that plays one node of a model network for doctor: it answers the facts script with a real capture, the
// clock read with the admin clock, the probe agent with what the model network lets through (probe-network.ts),
// and an ip tunnel probe with "ok"; it records every command, so tests count doctor's round trips per node.
import type { ExecOptions, ExecResult, Host } from '../../src/hosts/host.ts';
import type { ShellCommand } from '../../src/hosts/shell.ts';
import { agentReply, configOfProgram, type ModelNetwork } from './probe-network.ts';

export class SimulatedNode implements Host {
  readonly name: string;
  /** Every command run, as its first words ("sh -s", "date", "timeout python3", "timeout sh"). */
  readonly calls: string[] = [];
  readonly #gather: string;
  readonly #network: ModelNetwork;

  constructor(name: string, gatherOutput: string, network: ModelNetwork) {
    this.name = name;
    this.#gather = gatherOutput;
    this.#network = network;
  }

  async exec(command: readonly string[] | ShellCommand, options: ExecOptions = {}): Promise<ExecResult> {
    const argv = Array.isArray(command) ? (command as readonly string[]) : ['sh', '-c', (command as ShellCommand).shell];
    const interpreter = argv[0] === 'timeout' ? argv[4] : undefined;
    this.calls.push(interpreter ? `timeout ${interpreter}` : argv.slice(0, 2).join(' '));
    const stdout =
      argv[0] === 'sh' && argv[1] === '-s' ? this.#gather
      : argv[0] === 'date' ? `${Date.now()}000000\n`
      : interpreter?.includes('python') ? `${JSON.stringify(agentReply(configOfProgram(String(options.stdin)), this.#network))}\n`
      : interpreter === 'sh' ? 'ipip-tunnel ok\n'
      : undefined;
    if (stdout === undefined) throw new Error(`simulated node ${this.name}: unexpected command ${argv.join(' ')}`);
    return { host: this.name, command: argv.join(' '), exitCode: 0, signal: null, stdout, stderr: '', durationMs: 0, timedOut: false };
  }

  async readFile(path: string): Promise<Buffer> {
    throw new Error(`simulated node ${this.name}: unexpected read of ${path}`);
  }

  async writeFile(path: string): Promise<void> {
    throw new Error(`simulated node ${this.name}: unexpected write of ${path}`);
  }

  async upload(_local: string, remote: string): Promise<void> {
    throw new Error(`simulated node ${this.name}: unexpected upload to ${remote}`);
  }

  async close(): Promise<void> {}
}
