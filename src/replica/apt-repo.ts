// Signed apt repositories as the real hosts lay them out: a `dists/` tree (Docker) or a flat repo (pkgs.k8s.io,
// NVIDIA), indexed with apt-ftparchive and signed (InRelease + Release.gpg) by a replica key made with gpg in a
// private GNUPGHOME. The armored public key is what the replica publishes at the host's key URL.
import { copyFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';

/** A signing key in a private GNUPGHOME. */
export interface SigningKey {
  home: string;
  fingerprint: string;
  /** ASCII-armored public key, as apt's signed-by (.asc) and the real hosts' key URLs take it. */
  armored: string;
}

const gpgArgs = (home: string) => ['--homedir', home, '--batch', '--quiet', '--pinentry-mode', 'loopback', '--passphrase', ''];

/** Make an ed25519 signing key for `uid` in `home` (a short path: gpg-agent's socket lives there). */
export async function makeSigningKey(home: string, uid: string): Promise<SigningKey> {
  await mkdir(home, { recursive: true, mode: 0o700 });
  await execa('gpg', [...gpgArgs(home), '--quick-gen-key', uid, 'ed25519', 'sign', 'never']);
  const { stdout } = await execa('gpg', ['--homedir', home, '--batch', '--with-colons', '--list-keys', `=${uid}`]);
  const fingerprint = stdout.split('\n').find((l) => l.startsWith('fpr:'))?.split(':')[9];
  if (!fingerprint) throw new Error(`gpg made no key for ${uid}`);
  const armored = (await execa('gpg', ['--homedir', home, '--batch', '--armor', '--export', fingerprint])).stdout;
  return { home, fingerprint, armored: `${armored}\n` };
}

/** Stop the gpg-agent that gpg started for `home` (by its socket, nothing else). */
export async function stopGpgAgent(home: string): Promise<void> {
  await execa('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'], { reject: false });
}

/** Write `Release` for `dir` (made outside it, so it does not list itself), then InRelease and Release.gpg. */
async function releaseAndSign(dir: string, key: SigningKey, fields: Record<string, string>): Promise<void> {
  const opts = Object.entries(fields).flatMap(([k, v]) => ['-o', `APT::FTPArchive::Release::${k}=${v}`]);
  const { stdout } = await execa('apt-ftparchive', [...opts, 'release', '.'], { cwd: dir });
  const tmp = join(key.home, `Release-${basename(dir)}`);
  await writeFile(tmp, `${stdout}\n`);
  await rename(tmp, join(dir, 'Release'));
  const sign = ['--digest-algo', 'SHA512', '--local-user', key.fingerprint, '--yes'];
  await execa('gpg', [...gpgArgs(key.home), ...sign, '--clearsign', '--output', join(dir, 'InRelease'), join(dir, 'Release')]);
  await execa('gpg', [...gpgArgs(key.home), ...sign, '--armor', '--detach-sign', '--output', join(dir, 'Release.gpg'), join(dir, 'Release')]);
}

async function packagesIndex(root: string, debsDir: string, out: string): Promise<void> {
  const { stdout } = await execa('apt-ftparchive', ['packages', debsDir], { cwd: root });
  await mkdir(join(out, '..'), { recursive: true });
  // An empty repository has an empty index: a lone newline is a stanza without Package:, which apt refuses.
  await writeFile(out, stdout === '' ? '' : `${stdout}\n`);
  await writeFile(`${out}.gz`, gzipSync(await readFile(out)));
}

async function copyDebs(debs: readonly string[], dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const d of debs) await copyFile(d, join(dir, basename(d)));
}

/**
 * A flat repo (`deb URL /`): Packages, Release, InRelease, Release.gpg at `dir`; the .debs in `dir/<subdir>` (``: beside
 * them, as NVIDIA's; `amd64`: as pkgs.k8s.io's).
 */
export async function writeFlatRepo(o: { dir: string; subdir: string; debs: readonly string[]; key: SigningKey; origin: string; label: string }): Promise<void> {
  await copyDebs(o.debs, join(o.dir, o.subdir));
  await packagesIndex(o.dir, o.subdir || '.', join(o.dir, 'Packages'));
  await releaseAndSign(o.dir, o.key, { Origin: o.origin, Label: o.label, Architectures: 'amd64' });
}

/** A `dists/` repo: dists/<suite>/{InRelease,Release,Release.gpg,<component>/binary-amd64/Packages} and the .debs in `pool`. */
export async function writeDistsRepo(o: {
  root: string; suite: string; component: string; pool: string; debs: readonly string[]; key: SigningKey; origin: string; label: string;
}): Promise<void> {
  await copyDebs(o.debs, join(o.root, o.pool));
  const dist = join(o.root, 'dists', o.suite);
  await packagesIndex(o.root, o.pool, join(dist, o.component, 'binary-amd64', 'Packages'));
  await releaseAndSign(dist, o.key, {
    Origin: o.origin, Label: o.label, Suite: o.suite, Codename: o.suite, Architectures: 'amd64', Components: o.component,
  });
}
