// A Host that records instead of changing anything, so every phase can print its exact plan; reads may go to a
// live host so that facts stay real in a dry run.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { UserError } from '../errors.ts';
import type { ExecOptions, ExecResult, Host } from './host.ts';
import { redact } from './redact.ts';
import { shellJoin, type ShellCommand } from './shell.ts';

/** One thing a run would have done on a host. File contents are never kept: only size and sha256. */
export type PlanEntry =
  | { host: string; kind: 'exec'; command: string; stdinBytes?: number }
  | { host: string; kind: 'write'; path: string; size: number; sha256: string; mode?: number }
  | { host: string; kind: 'upload'; path: string; from: string; size: number; sha256: string; mode?: number; pending?: true }
  /** Work that is neither a command nor a file (seeding a registry over HTTPS), by what it would do. */
  | { host: string; kind: 'task'; what: string };

/** The ordered plan all dry-run hosts of a run write to. */
export class DryRunPlan {
  readonly entries: PlanEntry[] = [];
  add(entry: PlanEntry): void {
    this.entries.push(entry);
  }
}

export interface DryRunOptions {
  plan: DryRunPlan;
  /** Real host for `readOnly` execs and readFile. */
  live?: Host;
}

/** A Host for `--dry-run`: phases run unchanged, and the plan shows exactly what they would do. */
export class DryRunHost implements Host {
  readonly name: string;
  readonly #o: DryRunOptions;

  constructor(name: string, options: DryRunOptions) {
    this.name = name;
    this.#o = options;
  }

  /** Read-only commands run on the live host (when there is one); every other command is recorded and succeeds. */
  async exec(command: readonly string[] | ShellCommand, options: ExecOptions = {}): Promise<ExecResult> {
    if (options.readOnly && this.#o.live) return this.#o.live.exec(command, options);
    const line = Array.isArray(command) ? shellJoin(command as readonly string[]) : (command as ShellCommand).shell;
    const shown = redact(line, options.secrets);
    const stdinBytes = options.stdin === undefined ? undefined : Buffer.byteLength(options.stdin);
    this.#o.plan.add({ host: this.name, kind: 'exec', command: shown, ...(stdinBytes === undefined ? {} : { stdinBytes }) });
    return { host: this.name, command: shown, exitCode: 0, signal: null, stdout: '', stderr: '', durationMs: 0, timedOut: false, recorded: true };
  }

  async readFile(path: string): Promise<Buffer> {
    if (this.#o.live) return this.#o.live.readFile(path);
    throw new UserError(`${this.name}: a dry run without a connection cannot read ${path}`, { hint: 'run the dry run against reachable hosts so facts are read for real' });
  }

  async writeFile(path: string, data: string | Uint8Array, options: { mode?: number } = {}): Promise<void> {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    const sha256 = createHash('sha256').update(buf).digest('hex');
    this.#o.plan.add({ host: this.name, kind: 'write', path, size: buf.byteLength, sha256, ...(options.mode === undefined ? {} : { mode: options.mode }) });
  }

  async upload(localPath: string, remotePath: string, options: { mode?: number } = {}): Promise<void> {
    const hash = createHash('sha256');
    let size = 0;
    try {
      for await (const chunk of createReadStream(localPath)) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).byteLength;
      }
    } catch (error) {
      // A file an earlier step of the same plan makes on the admin host (a certificate): in a dry run it never exists.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.#o.plan.add({ host: this.name, kind: 'upload', path: remotePath, from: localPath, size: 0, sha256: '', pending: true, ...(options.mode === undefined ? {} : { mode: options.mode }) });
      return;
    }
    this.#o.plan.add({
      host: this.name, kind: 'upload', path: remotePath, from: localPath, size, sha256: hash.digest('hex'),
      ...(options.mode === undefined ? {} : { mode: options.mode }),
    });
  }

  async close(): Promise<void> {
    await this.#o.live?.close();
  }
}
