// Secrets a cluster keeps between runs on the admin host (the VRRP password, kubeadm's bootstrap token and
// certificate key): made once, mode 0600 in the state directory, so every run renders the same files and re-runs converge.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { newBootstrapToken, newCertificateKey } from '../phases/kube/join-secrets.ts';

/** The VRRP PASS password (8 characters, VRRPv2's limit), made on first use. */
export function vrrpPassword(stateDir: string): Promise<string> {
  return keptSecret(stateDir, 'vrrp-auth-pass', () => randomBytes(6).toString('base64url').slice(0, 8));
}

async function keptSecret(stateDir: string, name: string, make: () => string): Promise<string> {
  const path = join(stateDir, name);
  const known = await readFile(path, 'utf8').catch(() => '');
  if (known.trim()) return known.trim();
  await mkdir(stateDir, { recursive: true });
  await writeFile(path, `${make()}\n`, { mode: 0o600, flag: 'wx' }).catch(async () => undefined);
  return (await readFile(path, 'utf8')).trim();
}

/** kubeadm's bootstrap token and certificate key for this cluster, made on first use and kept owner-only. */
export async function kubeadmSecrets(stateDir: string): Promise<{ token: string; certificateKey: string }> {
  return { token: await keptSecret(stateDir, 'bootstrap-token', newBootstrapToken), certificateKey: await keptSecret(stateDir, 'certificate-key', newCertificateKey) };
}
