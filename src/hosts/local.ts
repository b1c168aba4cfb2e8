// Host implementation for the machine ferry runs on (`doctor --local`, tests): commands through execa.
import { copyFile, mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import { dirname } from 'node:path';
import { execa } from 'execa';
import { RemoteCommandError } from '../errors.ts';
import type { ExecOptions, ExecResult, Host } from './host.ts';
import { redact } from './redact.ts';
import { shellJoin, type ShellCommand } from './shell.ts';

export class LocalHost implements Host {
  readonly name: string;
  constructor(name = 'localhost') {
    this.name = name;
  }

  async exec(command: readonly string[] | ShellCommand, options: ExecOptions = {}): Promise<ExecResult> {
    const isArgv = Array.isArray(command);
    const [file, ...args] = isArgv ? (command as readonly string[]) : ['sh', '-c', (command as ShellCommand).shell];
    const shown = redact(isArgv ? shellJoin(command as readonly string[]) : (command as ShellCommand).shell, options.secrets);
    const started = performance.now();
    const r = await execa(file!, args, {
      reject: false,
      input: options.stdin,
      timeout: options.timeoutMs,
      env: options.env,
      stripFinalNewline: false,
    });
    const result: ExecResult = {
      host: this.name,
      command: shown,
      exitCode: r.exitCode ?? null,
      signal: r.signal ?? null,
      stdout: redact(String(r.stdout ?? ''), options.secrets),
      stderr: redact(String(r.stderr ?? ''), options.secrets),
      durationMs: Math.round(performance.now() - started),
      timedOut: r.timedOut === true,
    };
    if (r.failed && r.exitCode === undefined && r.signal === undefined && !r.timedOut) {
      // Could not start at all (ENOENT etc.): that is a failed command, exit 127 as a shell would say.
      result.exitCode = 127;
      result.stderr = redact(r.shortMessage ?? String(r.cause), options.secrets);
    }
    if (result.exitCode !== 0 && !options.allowFailure) {
      throw new RemoteCommandError({
        host: this.name,
        command: shown,
        code: result.timedOut ? null : result.exitCode,
        stderr: result.timedOut ? `timed out after ${options.timeoutMs} ms` : result.stderr.trim().split('\n').slice(-5).join('\n'),
      });
    }
    return result;
  }

  async readFile(path: string): Promise<Buffer> {
    return readFile(path);
  }

  async writeFile(path: string, data: string | Uint8Array, options: { mode?: number } = {}): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, data, { mode: options.mode });
    if (options.mode !== undefined) await chmod(path, options.mode);
  }

  async upload(localPath: string, remotePath: string, options: { mode?: number } = {}): Promise<void> {
    await mkdir(dirname(remotePath), { recursive: true });
    await copyFile(localPath, remotePath);
    if (options.mode !== undefined) await chmod(remotePath, options.mode);
  }

  async close(): Promise<void> {}
}
