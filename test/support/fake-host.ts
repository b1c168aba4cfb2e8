// A scripted fake Host for phase unit tests: it answers only the commands it was told to expect, in any order
// (each expectation once unless `times` says otherwise), and fails loudly on anything else. Files written and
// uploaded are kept so tests can read them back; `reads` serve readFile.
import { RemoteCommandError } from '../../src/errors.ts';
import type { ExecOptions, ExecResult, Host } from '../../src/hosts/host.ts';
import { shellJoin, type ShellCommand } from '../../src/hosts/shell.ts';

export interface Expectation {
  /** Exact command line (argv joined by shellJoin, or the shell text), or a pattern it must match. */
  command: string | RegExp;
  stdout?: string;
  stderr?: string;
  exitCode?: number;
  /** How many calls this answers (default 1; Infinity for any number). */
  times?: number;
  /** Asserted: the command must (true) or must not (false) be marked read-only. */
  readOnly?: boolean;
}

export interface FakeCall {
  command: string;
  readOnly: boolean;
  stdin?: string;
}

export class FakeHost implements Host {
  readonly name: string;
  readonly calls: FakeCall[] = [];
  readonly written = new Map<string, { data: string; mode?: number }>();
  readonly uploaded = new Map<string, string>();
  readonly #expect: (Expectation & { left: number })[] = [];
  readonly #reads: Map<string, string>;

  constructor(name: string, expectations: readonly Expectation[] = [], reads: Record<string, string> = {}) {
    this.name = name;
    this.#reads = new Map(Object.entries(reads));
    this.expect(...expectations);
  }

  expect(...expectations: Expectation[]): this {
    for (const e of expectations) this.#expect.push({ ...e, left: e.times ?? 1 });
    return this;
  }

  /** Expectations that were never used up (a test asserts this is empty). */
  unmet(): string[] {
    return this.#expect.filter((e) => e.left > 0 && e.left !== Infinity).map((e) => String(e.command));
  }

  /** Commands that were not read-only, in order. */
  mutating(): string[] {
    return this.calls.filter((c) => !c.readOnly).map((c) => c.command);
  }

  async exec(command: readonly string[] | ShellCommand, options: ExecOptions = {}): Promise<ExecResult> {
    const line = Array.isArray(command) ? shellJoin(command as readonly string[]) : (command as ShellCommand).shell;
    const readOnly = options.readOnly === true;
    this.calls.push({ command: line, readOnly, ...(options.stdin === undefined ? {} : { stdin: String(options.stdin) }) });
    const e = this.#expect.find((x) => x.left > 0 && (typeof x.command === 'string' ? x.command === line : x.command.test(line)));
    if (!e) throw new Error(`fake host ${this.name}: unexpected command: ${line}`);
    if (e.readOnly !== undefined && e.readOnly !== readOnly)
      throw new Error(`fake host ${this.name}: ${line} should ${e.readOnly ? '' : 'not '}be marked read-only`);
    e.left -= 1;
    const result: ExecResult = {
      host: this.name, command: line, exitCode: e.exitCode ?? 0, signal: null,
      stdout: e.stdout ?? '', stderr: e.stderr ?? '', durationMs: 0, timedOut: false,
    };
    if (result.exitCode !== 0 && !options.allowFailure)
      throw new RemoteCommandError({ host: this.name, command: line, code: result.exitCode, stderr: result.stderr.trim() });
    return result;
  }

  async readFile(path: string): Promise<Buffer> {
    const text = this.#reads.get(path);
    if (text === undefined) throw new Error(`fake host ${this.name}: unexpected read of ${path}`);
    return Buffer.from(text);
  }

  async writeFile(path: string, data: string | Uint8Array, options: { mode?: number } = {}): Promise<void> {
    this.written.set(path, { data: typeof data === 'string' ? data : Buffer.from(data).toString('utf8'), ...(options.mode === undefined ? {} : { mode: options.mode }) });
  }

  async upload(localPath: string, remotePath: string): Promise<void> {
    this.uploaded.set(remotePath, localPath);
  }

  async close(): Promise<void> {}
}
