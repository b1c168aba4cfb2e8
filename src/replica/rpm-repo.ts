// Signed RPM repositories as the real hosts lay them out: the RPMs signed with the host's key (rpmsign), indexed
// with createrepo_c, repodata/repomd.xml signed beside it (repomd.xml.asc, as pkgs.k8s.io and Docker publish it).
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import type { SigningKey } from './apt-repo.ts';

/**
 * Where an RPM sits inside a repo: `Packages/<first letter>/` (Rocky), `Packages/` (Docker), `<arch>/` (OBS), at the
 * top beside repodata/ (NVIDIA's CUDA and libnvidia-container repos).
 */
export type RpmLayout = 'rocky' | 'docker' | 'obs' | 'flat';

function packageDir(layout: RpmLayout, file: string): string {
  const name = basename(file);
  if (layout === 'rocky') return join('Packages', name[0]!.toLowerCase());
  if (layout === 'docker') return 'Packages';
  if (layout === 'flat') return '';
  return /\.noarch\.rpm$/.test(name) ? 'noarch' : 'x86_64';
}

/**
 * Write a repo at `dir` from already signed `rpms` (with `modules`, a modules.yaml added as the `modules` data type,
 * as modular repos publish it), then sign its repomd.xml with `key`.
 */
export async function writeRpmRepo(o: { dir: string; rpms: readonly string[]; layout: RpmLayout; key: SigningKey; modules?: string }): Promise<void> {
  await mkdir(o.dir, { recursive: true });
  for (const rpm of o.rpms) {
    const sub = join(o.dir, packageDir(o.layout, rpm));
    await mkdir(sub, { recursive: true });
    await copyFile(rpm, join(sub, basename(rpm)));
  }
  await execa('createrepo_c', ['--quiet', o.dir]);
  if (o.modules) {
    const work = await mkdtemp(join(tmpdir(), 'ferry-modules-'));
    try {
      await writeFile(join(work, 'modules.yaml'), o.modules);
      await execa('modifyrepo_c', ['--mdtype=modules', join(work, 'modules.yaml'), join(o.dir, 'repodata')]);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
  const repomd = join(o.dir, 'repodata', 'repomd.xml');
  await execa('gpg', ['--homedir', o.key.home, '--batch', '--quiet', '--yes', '--pinentry-mode', 'loopback', '--passphrase', '',
    '--local-user', o.key.fingerprint, '--armor', '--detach-sign', '--output', `${repomd}.asc`, repomd]);
}
