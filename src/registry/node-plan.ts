// Node-side decisions for the registry phases, pure: where the CA goes in the OS trust store, whether the
// container runtime honours image pins, and the replica list the nodes are given.
import type { Inventory } from '../config/inventory.ts';
import { registryHosts } from '../render/node-files.ts';

/** Where ferry keeps the registry's files on every node. */
export const REGISTRY_NODE_DIR = '/etc/ferry/registry';
export const NODE_CA_PATH = `${REGISTRY_NODE_DIR}/ca.crt`;

export interface TrustStorePlan {
  /** Where the CA is copied for the OS trust store. */
  anchor: string;
  /** Rebuilds the trust bundle. */
  update: string[];
}

const EL_ANCHOR = '/etc/pki/ca-trust/source/anchors/ferry-registry-ca.crt';
const DEBIAN_ANCHOR = '/usr/local/share/ca-certificates/ferry-registry-ca.crt';
/** Every place trustStorePlan may put the CA, so reset can remove it without knowing the OS first. */
export const TRUST_ANCHORS = [EL_ANCHOR, DEBIAN_ANCHOR] as const;

/** The CA anchor path and update command for the node's OS family (from /etc/os-release ID and ID_LIKE). */
export function trustStorePlan(osRelease: string): TrustStorePlan {
  const value = (key: string) => new RegExp(`^${key}=("?)([^"\\n]*)\\1$`, 'm').exec(osRelease)?.[2] ?? '';
  const ids = `${value('ID')} ${value('ID_LIKE')}`.split(/\s+/);
  if (ids.some((id) => ['rhel', 'fedora', 'centos', 'rocky', 'almalinux'].includes(id))) {
    return { anchor: EL_ANCHOR, update: ['update-ca-trust', 'extract'] };
  }
  return { anchor: DEBIAN_ANCHOR, update: ['update-ca-certificates'] };
}

/**
 * Whether containerd reports images labelled io.cri-containerd.pinned=pinned as pinned to kubelet: from 1.7.0
 * (containerd PR #7944); 1.6 ignores the label. kubelet skips pinned images in GC only since kubernetes PR #119986
 * (1.28, backported to 1.25-1.27 patch releases), and eviction may still remove them (containerd issue #10270): pins
 * are defence in depth, the local registry is what makes a lost image pullable again.
 */
export function containerdHonoursPins(versionOutput: string): boolean {
  const m = /\bv?(\d+)\.(\d+)\.\d+/.exec(versionOutput);
  if (!m) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > 1 || (major === 1 && minor >= 7);
}

/** Every replica as `address:port`, in inventory order (the first is hosts.toml's `server`). */
export function replicaEndpoints(inventory: Inventory, port: number): string[] {
  return registryHosts(inventory).map((h) => (h.address.includes(':') ? `[${h.address}]:${port}` : `${h.address}:${port}`));
}
