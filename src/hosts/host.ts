// The one interface every phase, probe and check talks to a machine through: local, SSH and dry-run implement it.
import type { ShellCommand } from './shell.ts';

/** One result shape for success and failure (after execa): what ran, how it ended, what it printed, how long. */
export interface ExecResult {
  host: string;
  /** The command as it ran, with secrets replaced by `<redacted>`. */
  command: string;
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
  /** Set by a dry-run host: the command was recorded, not run, so its (empty) output says nothing about the node. */
  recorded?: true;
}

export interface ExecOptions {
  stdin?: string | Uint8Array;
  timeoutMs?: number;
  /** Resolve with a non-zero result instead of throwing RemoteCommandError. */
  allowFailure?: boolean;
  env?: Readonly<Record<string, string>>;
  /** Values that must never reach logs, errors or the terminal. */
  secrets?: readonly string[];
  /** The command only reads; a dry-run host runs reads for real when it wraps a live host. */
  readOnly?: boolean;
}

export interface Host {
  /** Inventory name, used in every message. */
  readonly name: string;
  exec(command: readonly string[] | ShellCommand, options?: ExecOptions): Promise<ExecResult>;
  readFile(path: string): Promise<Buffer>;
  writeFile(path: string, data: string | Uint8Array, options?: { mode?: number }): Promise<void>;
  upload(localPath: string, remotePath: string, options?: { mode?: number }): Promise<void>;
  close(): Promise<void>;
}
