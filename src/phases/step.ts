// What a phase's plan is made of: steps as data. A phase observes (reads only), plans steps from what it saw (a
// pure function), and the runner applies them (apply.ts) or, in a dry run, prints them. No phase changes anything
// by itself.
import { redact } from '../hosts/redact.ts';
import type { ShellCommand } from '../hosts/shell.ts';
import type { RenderedFile } from '../render/file.ts';
import type { FamilyCommand } from './os/family.ts';

/**
 * Where a step acts: the node the phase is visiting (the default), the admin host ferry runs on, or another
 * inventory host (a join's token made on the first control plane).
 */
export type StepWhere = 'node' | 'admin' | { host: string };

export type Step =
  /** A command; its failure fails the host (unless allowFailure, for idempotent cleanups). */
  | {
    kind: 'exec'; on?: StepWhere; command: readonly string[] | ShellCommand; env?: Readonly<Record<string, string>>; stdin?: string; timeoutMs?: number; secrets?: readonly string[]; allowFailure?: boolean;
    /** Run once per run under this key, whichever host's plan has it first; every other host waits for that run (the registry CA, a join token). */
    once?: string;
  }
  /** A rendered file staged, checked by its own tool and moved into place (place-files.ts). */
  | { kind: 'place'; on?: StepWhere; file: RenderedFile }
  /** A file written as is (no staging: admin-side state, small node files without a checker). */
  | { kind: 'write'; on?: StepWhere; path: string; content: string; mode: number; secrets?: readonly string[] }
  /** A file of the admin host (the bundle, a certificate an earlier step made) copied to the node. */
  | { kind: 'upload'; from: string; to: string; mode?: number }
  /** A file of the node copied to the admin host (admin.conf for the user). */
  | { kind: 'fetch'; from: string; to: string; mode: number }
  /** Packages installed from the bundle's repository, and every package that appeared recorded for reset. */
  | { kind: 'packages'; phase: string; refresh: FamilyCommand; install: FamilyCommand; listInstalled: readonly string[] }
  /** A value that must never be printed again, from now on. */
  | { kind: 'secret'; value: string }
  /** A warning the run prints at its end. */
  | { kind: 'warn'; message: string }
  /**
   * Work that is neither a command nor a file (seeding a registry over HTTPS, waiting for a service to answer). Only
   * the runner calls `run`, never in a dry run; `what` is what the plan shows.
   */
  | { kind: 'task'; what: string; run: (apply: TaskContext) => Promise<void> };

/** What a task may use: the hosts of this application, already recording, audited and dry-run aware. */
export interface TaskContext {
  node: import('../hosts/host.ts').Host;
  admin: import('../hosts/host.ts').Host;
}

/** One line per step, for a plan that is printed or for an error that says what remains. */
export function describeStep(step: Step): string {
  const on = 'on' in step ? step.on : undefined;
  const where = on === 'admin' ? 'admin host: ' : typeof on === 'object' ? `${on.host}: ` : '';
  switch (step.kind) {
    case 'exec':
      return `${where}${redact(Array.isArray(step.command) ? (step.command as readonly string[]).join(' ') : (step.command as ShellCommand).shell, step.secrets)}`;
    case 'place':
      return `${where}place ${step.file.path}`;
    case 'write':
      return `${where}write ${step.path}`;
    case 'upload':
      return `upload ${step.from} to ${step.to}`;
    case 'fetch':
      return `fetch ${step.from} to the admin host's ${step.to}`;
    case 'packages':
      return step.install.argv.join(' ');
    case 'secret':
      return 'register a secret';
    case 'warn':
      return `warn: ${step.message}`;
    case 'task':
      return step.what;
  }
}

/** Shorthands for the common steps. */
export const exec = (command: readonly string[] | ShellCommand, options: Omit<Extract<Step, { kind: 'exec' }>, 'kind' | 'command'> = {}): Step => ({ kind: 'exec', command, ...options });
export const onAdmin = (command: readonly string[] | ShellCommand, options: Omit<Extract<Step, { kind: 'exec' }>, 'kind' | 'command' | 'on'> = {}): Step => ({ kind: 'exec', on: 'admin', command, ...options });
export const place = (...files: readonly RenderedFile[]): Step[] => files.map((file) => ({ kind: 'place', file }));
