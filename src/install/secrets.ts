// Secrets a cluster keeps between runs on the admin host (the VRRP password, kubeadm's bootstrap token and
// certificate key): made once, mode 0600 in the state directory, so every run renders the same files and re-runs
// converge. A dry run reads them when they exist and otherwise makes throwaway ones it never writes.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { newBootstrapToken, newCertificateKey } from '../phases/kube/join-secrets.ts';
import type { StateLayout } from '../state/layout.ts';

export interface KeepOptions {
  /** false in a dry run: nothing is written. */
  persist: boolean;
}

async function keptSecret(path: string, make: () => string, o: KeepOptions): Promise<string> {
  const known = await readFile(path, 'utf8').catch(() => '');
  if (known.trim()) return known.trim();
  if (!o.persist) return make();
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${make()}\n`, { mode: 0o600, flag: 'wx' }).catch(async () => undefined);
  return (await readFile(path, 'utf8')).trim();
}

/** The VRRP PASS password (8 characters, VRRPv2's limit), made on first use. */
export function vrrpPassword(layout: StateLayout, o: KeepOptions): Promise<string> {
  return keptSecret(layout.vrrpPassword, () => randomBytes(6).toString('base64url').slice(0, 8), o);
}

/** kubeadm's bootstrap token and certificate key for this cluster, made on first use and kept owner-only. */
export async function kubeadmSecrets(layout: StateLayout, o: KeepOptions): Promise<{ token: string; certificateKey: string }> {
  return { token: await keptSecret(layout.bootstrapToken, newBootstrapToken, o), certificateKey: await keptSecret(layout.certificateKey, newCertificateKey, o) };
}
