// Facts the demo's inputs are decided from, read from this machine: the versions its apt sources offer, the
// packages a lab node base already has, and Debian's registry binary when installed.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { hashFile } from '../util/hash.ts';
import { installedPackages } from './lab-inputs.ts';

/** Where Debian's docker-registry package puts the distribution registry. */
export const DEBIAN_REGISTRY_BINARY = '/usr/bin/docker-registry';

/** The version apt would install of `pkg` (its candidate), from the machine's apt sources. */
export async function aptCandidateVersion(pkg: string): Promise<string> {
  const r = await execa('apt-cache', ['policy', pkg], { reject: false, env: { LANG: 'C' } });
  const version = /^\s*Candidate:\s*(\S+)/m.exec(String(r.stdout))?.[1];
  if (!version || version === '(none)') throw new Error(`apt-cache policy ${pkg}: no candidate version (is ${pkg} in this machine's apt sources? try apt-get update)`);
  return version;
}

/** Packages installed in a root filesystem (its dpkg status file). */
export async function installedIn(root: string): Promise<string[]> {
  return installedPackages(await readFile(join(root, 'var/lib/dpkg/status'), 'utf8'));
}

/** Debian's registry binary with its hash and package version, or undefined when docker-registry is not installed. */
export async function debianRegistryBinary(): Promise<{ path: string; sha256: string; version: string } | undefined> {
  if (!existsSync(DEBIAN_REGISTRY_BINARY)) return undefined;
  const { sha256 } = await hashFile(DEBIAN_REGISTRY_BINARY);
  const r = await execa('dpkg-query', ['-W', '-f', '${Version}', 'docker-registry'], { reject: false });
  return { path: DEBIAN_REGISTRY_BINARY, sha256, version: r.exitCode === 0 ? String(r.stdout).trim() : 'unknown' };
}
