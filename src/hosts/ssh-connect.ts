// Open one ssh2 connection with strict host-key checking, key or agent authentication, and errors a person can act
// on; also the jump host (bastion) that tunnels connections to the other hosts with `forwardOut`.
import { readFile } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import { Client, type AuthenticationType, type ConnectConfig } from 'ssh2';
import { HostKeyError, HostUnreachableError, UserError } from '../errors.ts';
import type { KnownHostsFile } from './host-key-policy.ts';
import { knownHostsName } from './known-hosts.ts';
import { describeSshError } from './ssh-errors.ts';

/** Where and as whom to log in. */
export interface SshTarget {
  address: string;
  port?: number;
  user?: string;
  /** Private key file; without it the agent is used. */
  identityFile?: string;
  /** ssh-agent socket (the caller passes $SSH_AUTH_SOCK). */
  agent?: string;
}

// ssh2's default host-key algorithms (lib/protocol/constants.js, ssh2 1.17), in its order.
const HOST_KEY_ALGORITHMS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

/** Host-key algorithms with those of already known key types first, as ssh orders them, so a known host is checked against the key we hold. */
export function hostKeyAlgorithms(knownTypes: readonly string[]): string[] {
  const wanted = knownTypes.flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]));
  const first = HOST_KEY_ALGORITHMS.filter((a) => wanted.includes(a));
  return [...first, ...HOST_KEY_ALGORITHMS.filter((a) => !first.includes(a))];
}

export interface OpenOptions {
  /** Inventory name for messages. */
  label: string;
  target: SshTarget;
  knownHosts: KnownHostsFile;
  timeoutMs: number;
  /** A tunnel to the target (through a jump host) instead of a TCP connection. */
  sock?: Duplex;
  via?: string;
}

/** Connect and authenticate; rejects with HostKeyError, HostUnreachableError or UserError (unreadable key). */
export async function openSsh(o: OpenOptions): Promise<Client> {
  const port = o.target.port ?? 22;
  const user = o.target.user ?? 'root';
  const name = knownHostsName(o.target.address, port);
  const methods: string[] = [];
  const auth: AuthenticationType[] = [];
  let privateKey: Buffer | undefined;
  if (o.target.identityFile) {
    privateKey = await readFile(o.target.identityFile).catch((e: Error) => {
      throw new UserError(`${o.label}: cannot read SSH identity ${o.target.identityFile}: ${e.message}`, { hint: 'set ssh.identity to a readable private key file' });
    });
    methods.push(`publickey (${o.target.identityFile})`);
    auth.push('publickey');
  }
  if (o.target.agent) {
    methods.push(`agent (${o.target.agent})`);
    auth.push('agent');
  }
  if (auth.length === 0)
    throw new UserError(`${o.label}: no way to log in: no SSH identity file and no ssh-agent`, {
      hint: 'set ssh.identity in the inventory, or start ssh-agent and export SSH_AUTH_SOCK',
    });
  let keyError: HostKeyError | undefined;
  const config: ConnectConfig = {
    host: o.target.address,
    port,
    username: user,
    sock: o.sock,
    privateKey,
    agent: o.target.agent,
    authHandler: auth,
    readyTimeout: o.timeoutMs,
    keepaliveInterval: 15_000,
    algorithms: { serverHostKey: hostKeyAlgorithms(await o.knownHosts.knownTypes(name)) as never },
    hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
      o.knownHosts.verify(o.label, name, key).then(
        (err) => {
          keyError = err;
          verify(err === undefined);
        },
        () => verify(false),
      );
    },
  };
  const client = new Client();
  return new Promise((resolve, reject) => {
    const onError = (err: Error & { level?: string; code?: string }) => {
      client.end();
      if (keyError) return reject(keyError);
      const d = describeSshError(err, { address: o.target.address, port, user, methods, timeoutMs: o.timeoutMs, via: o.via });
      reject(new HostUnreachableError(o.label, d.message, { hint: d.hint, cause: err }));
    };
    client.once('error', onError);
    client.once('ready', () => {
      client.off('error', onError);
      // Errors after login surface through the channel that hits them; keep the process from crashing meanwhile.
      client.on('error', () => {});
      resolve(client);
    });
    client.connect(config);
  });
}

/** A bastion that every host of a run connects through: one connection, checked like any host, reused. */
export class JumpHost {
  readonly label: string;
  readonly #o: Omit<OpenOptions, 'sock' | 'via'>;
  #client: Promise<Client> | undefined;

  constructor(options: Omit<OpenOptions, 'sock' | 'via'>) {
    this.#o = options;
    this.label = `${options.target.user ?? 'root'}@${options.target.address}:${options.target.port ?? 22}`;
  }

  #connect(): Promise<Client> {
    if (!this.#client) {
      this.#client = openSsh(this.#o);
      this.#client.then(
        (c) => c.once('close', () => (this.#client = undefined)),
        () => (this.#client = undefined),
      );
    }
    return this.#client;
  }

  /** A tunnel to `address:port` from the bastion. */
  async forward(host: string, address: string, port: number): Promise<Duplex> {
    const client = await this.#connect().catch((e: Error) => {
      throw new HostUnreachableError(host, `bastion ${this.label} failed: ${e.message}`, { hint: (e as { hint?: string }).hint, cause: e });
    });
    return new Promise((resolve, reject) => {
      client.forwardOut('127.0.0.1', 0, address, port, (err, channel) => {
        if (err)
          reject(new HostUnreachableError(host, `bastion ${this.label} cannot reach ${address}:${port}: ${err.message}`, {
            hint: 'check that the bastion can reach the host on that port and that its sshd allows TCP forwarding (AllowTcpForwarding)',
            cause: err,
          }));
        else resolve(channel);
      });
    });
  }

  async close(): Promise<void> {
    const c = this.#client;
    this.#client = undefined;
    if (c) await c.then((client) => client.end(), () => undefined);
  }
}
