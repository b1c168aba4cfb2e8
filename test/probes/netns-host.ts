// Test helper: a Host that runs commands inside a network namespace this test created (ip netns exec), for real.
import type { ExecOptions, ExecResult, Host } from '../../src/hosts/host.ts';
import { LocalHost } from '../../src/hosts/local.ts';
import type { ShellCommand } from '../../src/hosts/shell.ts';

export class NetnsHost implements Host {
  readonly name: string;
  readonly #netns: string;
  readonly #local: LocalHost;
  constructor(name: string, netns: string) {
    this.name = name;
    this.#netns = netns;
    this.#local = new LocalHost(name);
  }
  exec(command: readonly string[] | ShellCommand, options?: ExecOptions): Promise<ExecResult> {
    const argv = Array.isArray(command) ? (command as readonly string[]) : ['sh', '-c', (command as ShellCommand).shell];
    return this.#local.exec(['ip', 'netns', 'exec', this.#netns, ...argv], options);
  }
  readFile(path: string): Promise<Buffer> {
    return this.#local.readFile(path);
  }
  writeFile(): Promise<void> {
    throw new Error('NetnsHost shares the test machine’s file system: nothing may be written "on" it');
  }
  upload(): Promise<void> {
    throw new Error('NetnsHost shares the test machine’s file system: nothing may be uploaded "to" it');
  }
  async close(): Promise<void> {}
}
