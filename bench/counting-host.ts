// A Host wrapper that counts round trips (exec, readFile, writeFile, upload) per host, for the doctor benchmark.
import type { ExecOptions, ExecResult, Host } from '../src/hosts/host.ts';
import type { ShellCommand } from '../src/hosts/shell.ts';

/** Counts and times every call to the wrapped host. */
export class CountingHost implements Host {
  readonly name: string;
  readonly #inner: Host;
  readonly calls: string[] = [];
  /** Milliseconds each exec took, in call order. */
  readonly execMs: number[] = [];
  /** The last stdout line of each probe agent run (`timeout … python -`): its report. */
  readonly agentLines: string[] = [];
  constructor(inner: Host) {
    this.name = inner.name;
    this.#inner = inner;
  }
  exec(command: readonly string[] | ShellCommand, options?: ExecOptions): Promise<ExecResult> {
    this.calls.push(Array.isArray(command) ? (command as readonly string[]).slice(0, 2).join(' ') : 'sh -c');
    const started = performance.now();
    const agent = Array.isArray(command) && command[0] === 'timeout';
    return this.#inner
      .exec(command, options)
      .then((r) => {
        if (agent) this.agentLines.push(r.stdout.trim().split('\n').at(-1) ?? '');
        return r;
      })
      .finally(() => this.execMs.push(Math.round(performance.now() - started)));
  }
  readFile(path: string): Promise<Buffer> {
    this.calls.push(`readFile ${path}`);
    return this.#inner.readFile(path);
  }
  writeFile(path: string, data: string | Uint8Array, options?: { mode?: number }): Promise<void> {
    this.calls.push(`writeFile ${path}`);
    return this.#inner.writeFile(path, data, options);
  }
  upload(localPath: string, remotePath: string, options?: { mode?: number }): Promise<void> {
    this.calls.push(`upload ${remotePath}`);
    return this.#inner.upload(localPath, remotePath, options);
  }
  close(): Promise<void> {
    return this.#inner.close();
  }
}
