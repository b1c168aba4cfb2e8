// The Host a phase's observe gets: every command runs as a read (so a dry run runs it for real and the audit log
// marks it read-only), and any write or upload is refused, so observing can never change a machine.
import { InternalError } from '../errors.ts';
import type { ExecOptions, ExecResult, Host } from './host.ts';
import type { ShellCommand } from './shell.ts';

export class ReadOnlyHost implements Host {
  readonly name: string;
  readonly #inner: Host;

  constructor(inner: Host) {
    this.name = inner.name;
    this.#inner = inner;
  }

  exec(command: readonly string[] | ShellCommand, options: ExecOptions = {}): Promise<ExecResult> {
    return this.#inner.exec(command, { ...options, readOnly: true });
  }

  readFile(path: string): Promise<Buffer> {
    return this.#inner.readFile(path);
  }

  async writeFile(path: string): Promise<void> {
    throw new InternalError(`${this.name}: a phase tried to write ${path} while observing (writes are steps of its plan)`);
  }

  async upload(_from: string, to: string): Promise<void> {
    throw new InternalError(`${this.name}: a phase tried to upload ${to} while observing (uploads are steps of its plan)`);
  }

  async close(): Promise<void> {}
}
