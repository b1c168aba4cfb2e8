// STAND-IN support: builds one reproducible .deb (dpkg-deb, amd64, root-owned, fixed mtimes) from a package
// description: control fields, files with modes, maintainer scripts. Generic, so every stand-in package set
// (kubeadm/kubelet/kubectl in debs.ts, the NVIDIA driver and toolkit in nvidia/debs.ts) shares it. Test code only.
import { chmod, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';

export interface DebSpec {
  name: string;
  version: string;
  description: string;
  depends?: string[];
  /** Debian section; default misc. */
  section?: string;
  /** Paths inside the package (no leading /) → content and mode. */
  files: Record<string, { text: string; mode: number }>;
  /** Symbolic links inside the package (no leading /) → their target. */
  links?: Record<string, string>;
  /** Empty directories the package owns (no leading /). */
  dirs?: string[];
  maintainer?: Partial<Record<'postinst' | 'prerm' | 'postrm', string>>;
}

/** A fixed date: dpkg warns about files from the epoch. */
const SOURCE_DATE_EPOCH = '1767225600';

/** Builds `spec` into `outDir`/<name>_<version>_amd64.deb; returns the file name. */
export async function buildDeb(spec: DebSpec, outDir: string): Promise<string> {
  const file = `${spec.name}_${spec.version}_amd64.deb`;
  const root = join(outDir, `${spec.name}.root`);
  await rm(root, { recursive: true, force: true });
  for (const [path, { text, mode }] of Object.entries(spec.files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
    await chmod(join(root, path), mode);
  }
  for (const [path, target] of Object.entries(spec.links ?? {})) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await symlink(target, join(root, path));
  }
  for (const dir of spec.dirs ?? []) await mkdir(join(root, dir), { recursive: true });
  await mkdir(join(root, 'DEBIAN'), { recursive: true });
  const control = [
    `Package: ${spec.name}`, `Version: ${spec.version}`, 'Architecture: amd64', 'Maintainer: ferry tests <stand-in@ferry.invalid>',
    ...(spec.depends?.length ? [`Depends: ${spec.depends.join(', ')}`] : []), `Section: ${spec.section ?? 'misc'}`, 'Priority: optional',
    `Description: ${spec.description}`, ' STAND-IN package for ferry tests, not the real software.', '',
  ];
  await writeFile(join(root, 'DEBIAN/control'), control.join('\n'));
  for (const [name, text] of Object.entries(spec.maintainer ?? {})) {
    await writeFile(join(root, 'DEBIAN', name), text);
    await chmod(join(root, 'DEBIAN', name), 0o755);
  }
  await execa('find', [root, '-exec', 'touch', '-h', '-d', `@${SOURCE_DATE_EPOCH}`, '{}', '+']);
  await execa('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', root, join(outDir, file)], { env: { SOURCE_DATE_EPOCH } });
  await rm(root, { recursive: true, force: true });
  return file;
}
