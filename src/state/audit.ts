// The audit log: one JSON line per command run on any host (time, host, phase, command, exit code, duration),
// with every registered secret redacted. Implemented as a Host wrapper so no phase can bypass it.
import type { ExecOptions, ExecResult, Host } from '../hosts/host.ts';
import { redact } from '../hosts/redact.ts';
import type { ShellCommand } from '../hosts/shell.ts';

export interface AuditRecord {
  time: string;
  host: string;
  phase?: string;
  /** exec, or the file operation. */
  op: 'exec' | 'writeFile' | 'upload';
  command: string;
  exitCode: number | null;
  durationMs: number;
  /** The command was marked read-only (it changed nothing): a re-run that finds everything done has only these. */
  readOnly?: boolean;
}

export interface AuditOptions {
  /** Where records go (a file appender in the CLI, an array in tests). */
  sink: (record: AuditRecord) => void;
  /** Current set of secrets; read at every call so secrets registered later are covered too. */
  secrets: () => readonly string[];
  now: () => Date;
  phase?: () => string | undefined;
}

/** Wraps a Host: passes every call through, records it, and redacts the registered secrets everywhere. */
export class AuditHost implements Host {
  readonly name: string;
  readonly #inner: Host;
  readonly #options: AuditOptions;

  constructor(inner: Host, options: AuditOptions) {
    this.name = inner.name;
    this.#inner = inner;
    this.#options = options;
  }

  async exec(command: readonly string[] | ShellCommand, options: ExecOptions = {}): Promise<ExecResult> {
    const secrets = [...(options.secrets ?? []), ...this.#options.secrets()];
    const started = this.#options.now();
    try {
      const result = await this.#inner.exec(command, { ...options, secrets });
      this.#record('exec', result.command, result.exitCode, result.durationMs, started, options.readOnly);
      return { ...result, stdout: redact(result.stdout, secrets), stderr: redact(result.stderr, secrets) };
    } catch (error) {
      const shown = Array.isArray(command) ? (command as string[]).join(' ') : (command as ShellCommand).shell;
      const code = (error as { code?: unknown }).code;
      this.#record('exec', redact(shown, secrets), typeof code === 'number' ? code : null, this.#since(started), started, options.readOnly);
      if (error instanceof Error) error.message = redact(error.message, secrets);
      throw error;
    }
  }

  readFile(path: string): Promise<Buffer> {
    return this.#inner.readFile(path);
  }

  async writeFile(path: string, data: string | Uint8Array, options?: { mode?: number }): Promise<void> {
    const started = this.#options.now();
    await this.#inner.writeFile(path, data, options);
    this.#record('writeFile', `${path} (${data.length} bytes)`, 0, this.#since(started), started);
  }

  async upload(localPath: string, remotePath: string, options?: { mode?: number }): Promise<void> {
    const started = this.#options.now();
    await this.#inner.upload(localPath, remotePath, options);
    this.#record('upload', `${localPath} -> ${remotePath}`, 0, this.#since(started), started);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  #since(started: Date): number {
    return this.#options.now().getTime() - started.getTime();
  }

  #record(op: AuditRecord['op'], command: string, exitCode: number | null, durationMs: number, started: Date, readOnly?: boolean): void {
    const phase = this.#options.phase?.();
    this.#options.sink({
      time: started.toISOString(),
      host: this.name,
      ...(phase ? { phase } : {}),
      op,
      command: redact(command, this.#options.secrets()),
      exitCode,
      durationMs,
      ...(readOnly ? { readOnly: true } : {}),
    });
  }
}
