// Secrets a cluster keeps between runs on the admin host (the VRRP password today): made once, mode 0600 in the
// state directory, so every run renders the same files and re-runs converge.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The VRRP PASS password (8 characters, VRRPv2's limit), made on first use. */
export async function vrrpPassword(stateDir: string): Promise<string> {
  const path = join(stateDir, 'vrrp-auth-pass');
  const known = await readFile(path, 'utf8').catch(() => '');
  if (known.trim()) return known.trim();
  const pass = randomBytes(6).toString('base64url').slice(0, 8);
  await mkdir(stateDir, { recursive: true });
  await writeFile(path, `${pass}\n`, { mode: 0o600, flag: 'wx' }).catch(async () => undefined);
  return (await readFile(path, 'utf8')).trim();
}
