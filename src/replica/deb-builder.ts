// Builds one reproducible .deb (dpkg-deb, root-owned, fixed mtimes) from a package description: control fields,
// files (text, or copied from a real binary), symlinks, empty dirs and maintainer scripts. Shared by the replica's
// containerd.io (real Debian binaries laid out as Docker's package) and the test stand-ins (test/stand-ins).
import { chmod, copyFile, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';

export interface DebSpec {
  name: string;
  version: string;
  /** The one-line synopsis. */
  description: string;
  /** The extended description, one line per entry (default: none). */
  longDescription?: string[];
  /** Default amd64. */
  architecture?: string;
  /** Default `ferry <replica@ferry.invalid>`. */
  maintainer?: string;
  depends?: string[];
  /** Further control fields in order (Provides, Conflicts, Replaces, Homepage, ...). */
  fields?: Record<string, string>;
  /** Debian section; default misc. */
  section?: string;
  /** Paths inside the package (no leading /) → text or a file to copy, and mode. */
  files: Record<string, { text: string; mode: number } | { from: string; mode: number }>;
  /** Symbolic links inside the package (no leading /) → their target. */
  links?: Record<string, string>;
  /** Empty directories the package owns (no leading /). */
  dirs?: string[];
  /** Conffiles (absolute paths), as dpkg keeps them on upgrade. */
  conffiles?: string[];
  /** Maintainer scripts (the DEBIAN/ part), by name. */
  maintainerScripts?: Partial<Record<'preinst' | 'postinst' | 'prerm' | 'postrm', string>>;
  /** Default gzip (fast); xz as most archives use. */
  compression?: 'gzip' | 'xz';
}

/** A fixed date: dpkg warns about files from the epoch. */
const SOURCE_DATE_EPOCH = '1767225600';

/** The .deb file name dpkg-deb and archives use. */
export function debFileName(spec: Pick<DebSpec, 'name' | 'version' | 'architecture'>): string {
  return `${spec.name}_${spec.version.replace(/^\d+:/, '')}_${spec.architecture ?? 'amd64'}.deb`;
}

/** Builds `spec` into `outDir`/<name>_<version>_<arch>.deb; returns the file name. */
export async function buildDeb(spec: DebSpec, outDir: string): Promise<string> {
  const file = debFileName(spec);
  const root = join(outDir, `${spec.name}.root`);
  await rm(root, { recursive: true, force: true });
  for (const [path, entry] of Object.entries(spec.files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    if ('from' in entry) await copyFile(entry.from, join(root, path));
    else await writeFile(join(root, path), entry.text);
    await chmod(join(root, path), entry.mode);
  }
  for (const [path, target] of Object.entries(spec.links ?? {})) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await symlink(target, join(root, path));
  }
  for (const dir of spec.dirs ?? []) await mkdir(join(root, dir), { recursive: true });
  await mkdir(join(root, 'DEBIAN'), { recursive: true });
  const control = [
    `Package: ${spec.name}`, `Version: ${spec.version}`, `Architecture: ${spec.architecture ?? 'amd64'}`,
    `Maintainer: ${spec.maintainer ?? 'ferry <replica@ferry.invalid>'}`,
    ...(spec.depends?.length ? [`Depends: ${spec.depends.join(', ')}`] : []),
    ...Object.entries(spec.fields ?? {}).map(([k, v]) => `${k}: ${v}`),
    `Section: ${spec.section ?? 'misc'}`, 'Priority: optional',
    `Description: ${spec.description}`, ...(spec.longDescription ?? []).map((l) => ` ${l === '' ? '.' : l}`), '',
  ];
  await writeFile(join(root, 'DEBIAN/control'), control.join('\n'));
  if (spec.conffiles?.length) await writeFile(join(root, 'DEBIAN/conffiles'), `${spec.conffiles.join('\n')}\n`);
  for (const [name, text] of Object.entries(spec.maintainerScripts ?? {})) {
    await writeFile(join(root, 'DEBIAN', name), text);
    await chmod(join(root, 'DEBIAN', name), 0o755);
  }
  await execa('find', [root, '-exec', 'touch', '-h', '-d', `@${SOURCE_DATE_EPOCH}`, '{}', '+']);
  const z = spec.compression === 'xz' ? ['-Zxz', '-z6'] : ['-Zgzip'];
  await execa('dpkg-deb', ['--root-owner-group', ...z, '--build', root, join(outDir, file)], { env: { SOURCE_DATE_EPOCH } });
  await rm(root, { recursive: true, force: true });
  return file;
}
