// The typed errors of ferry and the exit codes they map to: the one place both are named.
// Code branches on the class or `exitCode`, never on message text.

/** Exit codes, named once. Commands return or throw; only src/cli/main.ts exits. */
export const ExitCode = {
  ok: 0,
  internal: 1,
  badInput: 2,
  noStack: 3,
  checksFailed: 4,
  hostUnreachable: 5,
  verifyFailed: 6,
  phaseFailed: 7,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface ErrorOptions {
  /** What the user should do next, printed under the message. */
  hint?: string;
  cause?: unknown;
}

/** Base class: every ferry error has an exit code and may carry a hint. */
export abstract class FerryError extends Error {
  abstract readonly exitCode: ExitCode;
  readonly hint: string | undefined;
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

/** Bad usage or bad input: a flag, a file, a value the user can fix. */
export class UserError extends FerryError {
  readonly exitCode = ExitCode.badInput;
}

/** One problem found in an input file, with where it is. */
export interface InputIssue {
  file: string;
  line?: number;
  column?: number;
  /** Dotted path of the field, e.g. `hosts[2].address`. */
  field?: string;
  message: string;
}

/** An input file failed to parse or validate; lists every problem found, not just the first. */
export class InputError extends UserError {
  readonly issues: readonly InputIssue[];
  constructor(issues: readonly InputIssue[], options: ErrorOptions = {}) {
    super(issues.map(formatIssue).join('\n'), options);
    this.issues = issues;
  }
}

export function formatIssue(issue: InputIssue): string {
  const where = [issue.file, issue.line, issue.column].filter((x) => x !== undefined).join(':');
  const field = issue.field ? ` ${issue.field}:` : '';
  return `${where}:${field} ${issue.message}`;
}

/** A conflict found by the resolver: the rules behind it and what they say. */
export interface Conflict {
  rules: string[];
  message: string;
}

/** The resolver found no consistent stack for the request. */
export class NoStackError extends FerryError {
  readonly exitCode = ExitCode.noStack;
  readonly conflicts: readonly Conflict[];
  constructor(conflicts: readonly Conflict[], options: ErrorOptions = {}) {
    super(`no consistent stack: ${conflicts.map((c) => c.message).join('; ')}`, options);
    this.conflicts = conflicts;
  }
}

/** A command on a host failed. Message names host and command; output is trimmed by the caller. */
export class RemoteCommandError extends FerryError {
  readonly exitCode = ExitCode.phaseFailed;
  readonly host: string;
  readonly command: string;
  readonly code: number | null;
  readonly stderr: string;
  constructor(
    fields: { host: string; command: string; code: number | null; stderr: string },
    options: ErrorOptions = {},
  ) {
    const status = fields.code === null ? 'was killed' : `exited ${fields.code}`;
    super(`on ${fields.host}: \`${fields.command}\` ${status}${fields.stderr ? `: ${fields.stderr}` : ''}`, options);
    this.host = fields.host;
    this.command = fields.command;
    this.code = fields.code;
    this.stderr = fields.stderr;
  }
}

/** An install phase failed on one or more hosts; names the phase and the hosts, keeps each host's error. */
export class PhaseError extends FerryError {
  readonly exitCode = ExitCode.phaseFailed;
  readonly phase: string;
  readonly failures: ReadonlyMap<string, Error>;
  constructor(phase: string, failures: ReadonlyMap<string, Error>, options: ErrorOptions = {}) {
    const lines = [...failures].map(([host, error]) => `  ${host}: ${error.message}`);
    super(`phase ${phase} failed on ${failures.size} host(s):\n${lines.join('\n')}`, options);
    this.phase = phase;
    this.failures = failures;
  }
}

/** A host could not be reached or logged into. */
export class HostUnreachableError extends FerryError {
  readonly exitCode = ExitCode.hostUnreachable;
  readonly host: string;
  constructor(host: string, message: string, options: ErrorOptions = {}) {
    super(`${host}: ${message}`, options);
    this.host = host;
  }
}

/** A host offered an SSH host key that is unknown (and not accepted), changed, or revoked: never connected. */
export class HostKeyError extends FerryError {
  readonly exitCode = ExitCode.hostUnreachable;
  readonly host: string;
  readonly reason: 'unknown' | 'changed' | 'revoked';
  readonly fingerprint: string;
  constructor(fields: { host: string; reason: 'unknown' | 'changed' | 'revoked'; fingerprint: string; message: string }, options: ErrorOptions = {}) {
    super(`${fields.host}: ${fields.message}`, options);
    this.host = fields.host;
    this.reason = fields.reason;
    this.fingerprint = fields.fingerprint;
  }
}

/** A bundle or registry failed verification. */
export class VerifyError extends FerryError {
  readonly exitCode = ExitCode.verifyFailed;
  readonly problems: readonly string[];
  constructor(problems: readonly string[], options: ErrorOptions = {}) {
    super(`verification failed:\n${problems.map((p) => `  ${p}`).join('\n')}`, options);
    this.problems = problems;
  }
}

/** A bug in ferry: something that should not happen. */
export class InternalError extends FerryError {
  readonly exitCode = ExitCode.internal;
}

/** A tool on a node printed something ferry cannot read (kubeadm's certificate table, etcdctl's status). */
export class UnexpectedOutputError extends FerryError {
  readonly exitCode = ExitCode.phaseFailed;
}

/** A one-shot operation (an etcd snapshot) failed on every host that could have done it; the message names each. */
export class OperationFailedError extends FerryError {
  readonly exitCode = ExitCode.phaseFailed;
}
