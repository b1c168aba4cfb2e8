// Strict host-key checking against one known_hosts file, shared by every connection of a run: unknown keys are
// refused unless the user chose accept-new (then recorded), changed and revoked keys are always refused.
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { HostKeyError } from '../errors.ts';
import { checkHostKey, fingerprint, keyTypeOf, knownHostsLine, knownKeyTypes, parseKnownHosts, type HostKeyVerdict } from './known-hosts.ts';

export type HostKeyPolicy = 'strict' | 'accept-new';

/** The flag that lets ferry record keys of hosts it has never seen. */
export const ACCEPT_NEW_FLAG = '--accept-new-host-keys';

/** The error for a verdict that must stop the connection (none for trusted, or unknown under accept-new). */
export function hostKeyError(
  verdict: HostKeyVerdict,
  ctx: { host: string; name: string; file: string; blob: Buffer; policy: HostKeyPolicy },
): HostKeyError | undefined {
  const fp = fingerprint(ctx.blob);
  const type = keyTypeOf(ctx.blob);
  const at = `${ctx.host} (${ctx.name})`;
  switch (verdict.kind) {
    case 'trusted':
      return undefined;
    case 'unknown':
      if (ctx.policy === 'accept-new') return undefined;
      return new HostKeyError(
        { host: at, reason: 'unknown', fingerprint: fp, message: `host key ${type} ${fp} is not in ${ctx.file}; refusing to connect` },
        { hint: `compare it with \`ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub\` on the host, then rerun with ${ACCEPT_NEW_FLAG} to record it` },
      );
    case 'changed':
      return new HostKeyError(
        {
          host: at, reason: 'changed', fingerprint: fp,
          message: `HOST KEY CHANGED: it offers ${type} ${fp}, but ${ctx.file}:${verdict.line} holds a different ${verdict.knownType} key for it; refusing to connect (reinstalled host, or someone in the middle)`,
        },
        { hint: `if the host was reinstalled, check the new key on its console, then remove the old one: ssh-keygen -R '${ctx.name}' -f ${ctx.file}` },
      );
    case 'revoked':
      return new HostKeyError(
        { host: at, reason: 'revoked', fingerprint: fp, message: `host key ${type} ${fp} is marked @revoked in ${ctx.file}:${verdict.line}; refusing to connect` },
        { hint: 'give the host a new host key; a revoked key is never accepted' },
      );
  }
}

/** One known_hosts file and the policy for it; appends from concurrent connections are serialised. */
export class KnownHostsFile {
  readonly path: string;
  readonly policy: HostKeyPolicy;
  #appends: Promise<void> = Promise.resolve();

  constructor(path: string, policy: HostKeyPolicy = 'strict') {
    this.path = path;
    this.policy = policy;
  }

  async #entries() {
    return parseKnownHosts(await readFile(this.path, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? '' : Promise.reject(e))));
  }

  /** Key types already known for `name`, to offer first in the handshake as ssh does. */
  async knownTypes(name: string): Promise<string[]> {
    return knownKeyTypes(await this.#entries(), name);
  }

  /** Check the key `host` (looked up as `name`) offered; records it under accept-new; the error when refused. */
  async verify(host: string, name: string, blob: Buffer): Promise<HostKeyError | undefined> {
    const verdict = checkHostKey(await this.#entries(), name, blob);
    const error = hostKeyError(verdict, { host, name, file: this.path, blob, policy: this.policy });
    if (!error && verdict.kind === 'unknown') {
      this.#appends = this.#appends.then(async () => {
        await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
        await appendFile(this.path, `${knownHostsLine(name, blob)}\n`, { mode: 0o600 });
      });
      await this.#appends;
    }
    return error;
  }
}
