// Host over SSH (ssh2): one connection per host, reused; exec with argv quoting, optional `sudo -n`; files via SFTP.
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, SFTPWrapper } from 'ssh2';
import { RemoteCommandError, UserError } from '../errors.ts';
import type { ExecOptions, ExecResult, Host } from './host.ts';
import type { KnownHostsFile } from './host-key-policy.ts';
import { redact } from './redact.ts';
import { quote, sh, shellJoin, type ShellCommand } from './shell.ts';
import { openSsh, type JumpHost, type SshTarget } from './ssh-connect.ts';

export interface SshHostOptions extends SshTarget {
  /** Inventory name, used in every message. */
  name: string;
  knownHosts: KnownHostsFile;
  jump?: JumpHost;
  /** Run commands through `sudo -n` (only when the user is not root). */
  sudo?: boolean;
  connectTimeoutMs?: number;
}

interface RawResult {
  code: number | null;
  signal: string | null;
  stdout: Buffer;
  stderr: Buffer;
  timedOut: boolean;
}

/** The line the remote shell runs: argv quoted, env through `env`, a remote `timeout`, the whole in `sudo -n` when asked. */
export function remoteCommandLine(
  command: readonly string[] | ShellCommand,
  options: { env?: Readonly<Record<string, string>>; sudo: boolean; timeoutMs?: number },
): string {
  const isArgv = Array.isArray(command);
  const envWords = Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`);
  let line = isArgv ? shellJoin(command as readonly string[]) : (command as ShellCommand).shell;
  if (envWords.length) line = `env ${shellJoin(envWords)} ${isArgv ? line : `sh -c ${quote(line)}`}`;
  // Closing the channel does not stop the remote process: coreutils timeout does (KILL 2 s after TERM).
  if (options.timeoutMs !== undefined) line = `timeout -k 2 ${Math.max(1, Math.ceil(options.timeoutMs / 1000))} sh -c ${quote(line)}`;
  return options.sudo ? `sudo -n -- sh -c ${quote(line)}` : line;
}

/** sudo refused to run without a password (sudo -n): the message sudo prints, the only sign it gives. */
export function sudoNeedsPassword(exitCode: number | null, stderr: string): boolean {
  return exitCode === 1 && /^sudo: (a )?password is required/m.test(stderr);
}

/** A node over SSH: the Host every phase and probe uses on a real site. */
export class SshHost implements Host {
  readonly name: string;
  readonly #o: SshHostOptions;
  #client: Promise<Client> | undefined;
  #sftp: Promise<SFTPWrapper> | undefined;
  // sshd allows 10 sessions per connection (MaxSessions); the SFTP session holds one for good, so at most 8
  // commands run at once and the rest wait their turn.
  #freeChannels = 8;
  readonly #waiting: (() => void)[] = [];

  constructor(options: SshHostOptions) {
    this.name = options.name;
    this.#o = options;
  }

  get #useSudo(): boolean {
    return this.#o.sudo === true && (this.#o.user ?? 'root') !== 'root';
  }

  #connect(): Promise<Client> {
    if (!this.#client) {
      const port = this.#o.port ?? 22;
      const timeoutMs = this.#o.connectTimeoutMs ?? 10_000;
      const p = (async () => {
        const sock = this.#o.jump ? await this.#o.jump.forward(this.name, this.#o.address, port) : undefined;
        return openSsh({ label: this.name, target: this.#o, knownHosts: this.#o.knownHosts, timeoutMs, sock, via: this.#o.jump?.label });
      })();
      this.#client = p;
      p.then(
        (c) => c.once('close', () => {
          this.#client = undefined;
          this.#sftp = undefined;
        }),
        () => (this.#client = undefined),
      );
    }
    return this.#client;
  }

  #sftpSession(): Promise<SFTPWrapper> {
    if (!this.#sftp) {
      this.#sftp = this.#connect().then((c) => new Promise<SFTPWrapper>((res, rej) => c.sftp((err, s) => (err ? rej(err) : res(s)))));
      this.#sftp.catch(() => (this.#sftp = undefined));
    }
    return this.#sftp;
  }

  async #run(line: string, options: ExecOptions): Promise<RawResult> {
    const client = await this.#connect();
    if (this.#freeChannels === 0) await new Promise<void>((r) => this.#waiting.push(r));
    else this.#freeChannels--;
    try {
      // sshd frees a closed session on its next loop turn, so an open right after a close can still hit
      // MaxSessions ("no more sessions"): a channel-open failure (ssh2 sets `reason`) is retried, boundedly.
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.#runOnChannel(client, line, options);
        } catch (e) {
          if (typeof (e as { reason?: unknown }).reason !== 'number' || attempt >= 20) throw e;
          await sleep(25 * attempt);
        }
      }
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#freeChannels++;
    }
  }

  #runOnChannel(client: Client, line: string, options: ExecOptions): Promise<RawResult> {
    return new Promise((resolve, reject) => {
      client.exec(line, (err, ch) => {
        if (err) return reject(err);
        const out: Buffer[] = [];
        const errs: Buffer[] = [];
        let timedOut = false;
        const finish = (code: number | null, signal: string | null) => {
          clearTimeout(timer);
          resolve({ code: timedOut ? null : code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(errs), timedOut });
        };
        // The remote `timeout` ends the command; this backstop answers even if the host stops talking.
        const timer = options.timeoutMs
          ? setTimeout(() => {
              timedOut = true;
              ch.close();
              finish(null, null);
            }, options.timeoutMs + 3_000)
          : undefined;
        ch.on('data', (d: Buffer) => out.push(d));
        ch.stderr.on('data', (d: Buffer) => errs.push(d));
        ch.on('close', (code: number | null | undefined, signal?: string) => {
          // coreutils timeout exits 124 when it had to stop the command (137 when it also had to KILL it).
          if (options.timeoutMs !== undefined && (code === 124 || code === 137)) timedOut = true;
          finish(code ?? null, signal ?? null);
        });
        if (options.stdin !== undefined) ch.end(options.stdin);
        else ch.end();
      });
    });
  }

  /** Run a command; on sudo hosts it runs as root through `sudo -n`. */
  async exec(command: readonly string[] | ShellCommand, options: ExecOptions = {}): Promise<ExecResult> {
    const isArgv = Array.isArray(command);
    const shown = redact(isArgv ? shellJoin(command as readonly string[]) : (command as ShellCommand).shell, options.secrets);
    const started = performance.now();
    const raw = await this.#run(remoteCommandLine(command, { env: options.env, sudo: this.#useSudo, timeoutMs: options.timeoutMs }), options);
    const stderr = redact(raw.stderr.toString('utf8'), options.secrets);
    if (this.#useSudo) this.#checkSudo(raw.code, stderr);
    const result: ExecResult = {
      host: this.name,
      command: shown,
      exitCode: raw.code,
      signal: raw.signal,
      stdout: redact(raw.stdout.toString('utf8'), options.secrets),
      stderr,
      durationMs: Math.round(performance.now() - started),
      timedOut: raw.timedOut,
    };
    if (result.exitCode !== 0 && !options.allowFailure)
      throw new RemoteCommandError({
        host: this.name,
        command: shown,
        code: raw.timedOut ? null : result.exitCode,
        stderr: raw.timedOut ? `timed out after ${options.timeoutMs} ms` : stderr.trim().split('\n').slice(-5).join('\n'),
      });
    return result;
  }

  #checkSudo(code: number | null, stderr: string): void {
    if (sudoNeedsPassword(code, stderr))
      throw new UserError(`${this.name}: sudo needs a password for ${this.#o.user}, and ferry runs sudo -n (never types a password)`, {
        hint: `allow ${this.#o.user} to run commands without a password (a line "${this.#o.user} ALL=(ALL) NOPASSWD: ALL" in /etc/sudoers.d/), or log in as root`,
      });
  }

  async readFile(path: string): Promise<Buffer> {
    if (this.#useSudo) {
      const raw = await this.#run(remoteCommandLine(['cat', '--', path], { sudo: true }), {});
      this.#checkSudo(raw.code, raw.stderr.toString());
      if (raw.code !== 0) throw new RemoteCommandError({ host: this.name, command: `cat ${quote(path)}`, code: raw.code, stderr: raw.stderr.toString().trim() });
      return raw.stdout;
    }
    const sftp = await this.#sftpSession();
    return readParallel(sftp, path).catch((err: Error) => Promise.reject(this.#fileError('read', path, err)));
  }

  async writeFile(path: string, data: string | Uint8Array, options: { mode?: number } = {}): Promise<void> {
    const target = this.#useSudo ? this.#tempPath() : path;
    if (!this.#useSudo) await this.exec(['mkdir', '-p', posix.dirname(path)]);
    const sftp = await this.#sftpSession();
    await new Promise<void>((res, rej) =>
      sftp.writeFile(target, typeof data === 'string' ? data : Buffer.from(data), { mode: options.mode ?? 0o644 }, (err) => (err ? rej(this.#fileError('write', path, err)) : res())),
    );
    await this.#place(target, path, options.mode);
  }

  async upload(localPath: string, remotePath: string, options: { mode?: number } = {}): Promise<void> {
    const target = this.#useSudo ? this.#tempPath() : remotePath;
    if (!this.#useSudo) await this.exec(['mkdir', '-p', posix.dirname(remotePath)]);
    const sftp = await this.#sftpSession();
    await new Promise<void>((res, rej) =>
      sftp.fastPut(localPath, target, { mode: options.mode ?? 0o644 }, (err) => (err ? rej(this.#fileError('upload', remotePath, err)) : res())),
    );
    await this.#place(target, remotePath, options.mode);
  }

  /** Without sudo: fix the mode (SFTP applies it only to new files). With sudo: move the user's temp file into place as root. */
  async #place(target: string, path: string, mode: number | undefined): Promise<void> {
    if (this.#useSudo) {
      const m = (mode ?? 0o644).toString(8);
      await this.exec(sh`install -D -m ${m} ${target} ${path} && rm -f ${target}`);
    } else if (mode !== undefined) {
      const sftp = await this.#sftpSession();
      await new Promise<void>((res, rej) => sftp.chmod(path, mode, (err) => (err ? rej(this.#fileError('chmod', path, err)) : res())));
    }
  }

  #tempPath(): string {
    return `/tmp/.ferry-${randomBytes(6).toString('hex')}`;
  }

  #fileError(op: string, path: string, err: Error): RemoteCommandError {
    return new RemoteCommandError({ host: this.name, command: `sftp ${op} ${path}`, code: null, stderr: err.message }, { cause: err });
  }

  async close(): Promise<void> {
    const c = this.#client;
    this.#client = undefined;
    this.#sftp = undefined;
    if (!c) return;
    const client = await c.catch(() => undefined);
    if (!client) return;
    await new Promise<void>((res) => {
      client.once('close', () => res());
      client.end();
    });
  }
}

/** Read a whole file over SFTP with many requests in flight (sftp.readFile asks for one chunk at a time). */
async function readParallel(sftp: SFTPWrapper, path: string, chunk = 32 * 1024, inFlight = 64): Promise<Buffer> {
  const handle = await new Promise<Buffer>((res, rej) => sftp.open(path, 'r', (err, h) => (err ? rej(err) : res(h))));
  try {
    const size = await new Promise<number>((res, rej) => sftp.fstat(handle, (err, st) => (err ? rej(err) : res(st.size))));
    const buf = Buffer.alloc(size);
    let next = 0;
    const worker = async () => {
      while (next < size) {
        const start = next;
        next += chunk;
        const end = Math.min(start + chunk, size);
        for (let at = start; at < end; ) {
          const n = await new Promise<number>((res, rej) => sftp.read(handle, buf, at, end - at, at, (err, got) => (err ? rej(err) : res(got))));
          if (n === 0) throw new Error(`${path} ended at ${at} of ${size} bytes`);
          at += n;
        }
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
    return buf;
  } finally {
    await new Promise<void>((res) => sftp.close(handle, () => res()));
  }
}
