// From a parsed inventory to live SSH hosts: one known-hosts policy and one bastion for all, closed together.
import type { Inventory } from '../config/inventory.ts';
import { inventoryPath } from '../config/inputs.ts';
import { parseBastionSpec } from '../config/net.ts';

export { inventoryPath };
import { UserError } from '../errors.ts';
import type { Host } from './host.ts';
import { KnownHostsFile, type HostKeyPolicy } from './host-key-policy.ts';
import { JumpHost } from './ssh-connect.ts';
import { SshHost } from './ssh.ts';

/** `user@host:port` (user and port optional) as in `ssh.bastion`. */
export function parseBastion(spec: string): { user?: string; host: string; port: number } {
  const parsed = parseBastionSpec(spec);
  if (!parsed) throw new UserError(`ssh.bastion "${spec}" is not user@host:port`, { hint: 'write it as user@host:port, e.g. admin@10.0.0.5:22' });
  return parsed;
}

export interface ConnectOptions {
  homeDir: string;
  /** Directory of the inventory file, for relative paths in it. */
  baseDir: string;
  /** ssh-agent socket ($SSH_AUTH_SOCK), used when a host has no identity file. */
  agentSocket?: string;
  hostKeyPolicy?: HostKeyPolicy;
}

/** Every inventory host as a Host, by name. */
export interface HostSet {
  readonly hosts: ReadonlyMap<string, Host>;
  readonly knownHosts: KnownHostsFile;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Build SshHosts for an inventory (connections open lazily, on first use, and are reused). */
export function connectInventory(inv: Inventory, options: ConnectOptions): HostSet {
  const path = (p: string) => inventoryPath(p, options);
  const knownHosts = new KnownHostsFile(path(inv.ssh.knownHosts ?? '~/.ssh/known_hosts'), options.hostKeyPolicy ?? 'strict');
  const timeoutMs = inv.ssh.connectTimeoutMs;
  const identity = (own?: string) => {
    const file = own ?? inv.ssh.identity;
    return file === undefined ? undefined : path(file);
  };
  let jump: JumpHost | undefined;
  if (inv.ssh.bastion) {
    const b = parseBastion(inv.ssh.bastion);
    jump = new JumpHost({
      label: `bastion ${inv.ssh.bastion}`,
      target: { address: b.host, port: b.port, user: b.user ?? inv.ssh.user, identityFile: identity(), agent: options.agentSocket },
      knownHosts,
      timeoutMs,
    });
  }
  const hosts = new Map<string, Host>(
    inv.hosts.map((h) => [
      h.name,
      new SshHost({
        name: h.name,
        address: h.address,
        port: h.ssh?.port ?? inv.ssh.port,
        user: h.ssh?.user ?? inv.ssh.user,
        identityFile: identity(h.ssh?.identity),
        agent: options.agentSocket,
        knownHosts,
        jump,
        sudo: inv.ssh.sudo,
        connectTimeoutMs: timeoutMs,
      }),
    ]),
  );
  const close = async () => {
    await Promise.all([...hosts.values()].map((h) => h.close().catch(() => undefined)));
    await jump?.close();
  };
  return { hosts, knownHosts, close, [Symbol.asyncDispose]: close };
}
