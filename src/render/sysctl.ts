// Kernel settings Kubernetes needs, persisted in sysctl.d so they survive a reboot (applied with `sysctl --system`).
import { UserError } from '../errors.ts';
import { renderedFile, type RenderedFile } from './file.ts';

export const SYSCTL_PATH = '/etc/sysctl.d/90-ferry-kubernetes.conf';

/** What every node gets: bridged traffic through netfilter, forwarding, room for inotify watchers and keys. */
export const KUBERNETES_SYSCTLS: Readonly<Record<string, string>> = {
  'net.bridge.bridge-nf-call-iptables': '1',
  'net.bridge.bridge-nf-call-ip6tables': '1',
  'net.ipv4.ip_forward': '1',
  'fs.inotify.max_user_instances': '8192',
  'fs.inotify.max_user_watches': '524288',
  // k3s check-config and kubelet's keyring use for many pods: more than the default 200 keys for root.
  'kernel.keys.root_maxkeys': '1000000',
  'kernel.keys.root_maxbytes': '25000000',
};

/** The /proc/sys path a key is read from and written to. */
export function sysctlProcPath(key: string): string {
  return `/proc/sys/${key.replaceAll('.', '/')}`;
}

/** The sysctl.d file: Kubernetes' settings plus `extra` (which may override them). */
export function renderSysctl(extra: Readonly<Record<string, string | number>> = {}): RenderedFile {
  const all = { ...KUBERNETES_SYSCTLS, ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, String(v)])) };
  for (const [k, v] of Object.entries(all)) {
    if (!/^[a-z0-9_]+(\.[a-z0-9_-]+)+$/.test(k)) throw new UserError(`not a sysctl key: ${JSON.stringify(k)}`);
    if (!/^[\w .:/-]+$/.test(v)) throw new UserError(`sysctl ${k}: value must be one plain line, got ${JSON.stringify(v)}`);
  }
  const lines = ['# Written by ferry: kernel settings for Kubernetes.', ...Object.entries(all).map(([k, v]) => `${k} = ${v}`)];
  return renderedFile(SYSCTL_PATH, `${lines.join('\n')}\n`);
}
