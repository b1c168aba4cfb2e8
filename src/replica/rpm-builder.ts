// Builds one reproducible RPM with rpmbuild from a package description (the RPM twin of deb-builder.ts): header
// fields (Requires, Provides, Conflicts as the real package names them), files (text, or copied from a real binary),
// symlinks, owned dirs, %config files and scriptlets. rpmbuild's automatic dependency scan is off (AutoReqProv: no):
// the binaries are Debian's, so their ELF needs would name Debian sonames; the header says what the EL package says.
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';

export interface RpmSpec {
  name: string;
  version: string;
  release: string;
  summary: string;
  description?: string;
  /** Default x86_64. */
  arch?: 'x86_64' | 'noarch';
  license?: string;
  url?: string;
  epoch?: number;
  requires?: string[];
  provides?: string[];
  conflicts?: string[];
  obsoletes?: string[];
  /** Paths inside the package (no leading /) → text or a file to copy, and mode. */
  files?: Record<string, { text: string; mode: number } | { from: string; mode: number }>;
  /** Symbolic links (no leading /) → target. */
  links?: Record<string, string>;
  /** Directories the package owns (no leading /). */
  dirs?: string[];
  /** Of `files`, those rpm keeps as %config(noreplace) (no leading /). */
  configs?: string[];
  /** Scriptlets: $1 is the count of instances after the operation, as rpm passes it. */
  scripts?: Partial<Record<'pre' | 'post' | 'preun' | 'postun' | 'posttrans', string>>;
}

/** A fixed build time (SOURCE_DATE_EPOCH), so two builds give the same payload. */
const SOURCE_DATE_EPOCH = '1767225600';

/** The file name createrepo and the real repos use: name-version-release.arch.rpm. */
export function rpmFileName(spec: Pick<RpmSpec, 'name' | 'version' | 'release' | 'arch'>): string {
  return `${spec.name}-${spec.version}-${spec.release}.${spec.arch ?? 'x86_64'}.rpm`;
}

/** The .spec text for `spec`, installing from `stage` (pure). */
export function specText(spec: RpmSpec, stage: string): string {
  const q = (p: string) => `"/${p}"`;
  const configs = new Set(spec.configs ?? []);
  const lines = [
    '%global debug_package %{nil}',
    '%global __os_install_post %{nil}',
    '%define _build_id_links none',
    `Name: ${spec.name}`,
    ...(spec.epoch ? [`Epoch: ${spec.epoch}`] : []),
    `Version: ${spec.version}`,
    `Release: ${spec.release}`,
    `Summary: ${spec.summary}`,
    `License: ${spec.license ?? 'ASL 2.0'}`,
    ...(spec.url ? [`URL: ${spec.url}`] : []),
    `BuildArch: ${spec.arch ?? 'x86_64'}`,
    'AutoReqProv: no',
    ...(spec.requires ?? []).map((r) => `Requires: ${r}`),
    ...(spec.provides ?? []).map((r) => `Provides: ${r}`),
    ...(spec.conflicts ?? []).map((r) => `Conflicts: ${r}`),
    ...(spec.obsoletes ?? []).map((r) => `Obsoletes: ${r}`),
    '',
    '%description',
    spec.description ?? spec.summary,
    '',
    '%install',
    'mkdir -p %{buildroot}',
    `cp -a ${stage}/. %{buildroot}/`,
    '',
    '%files',
    '%defattr(-,root,root,-)',
    ...Object.keys(spec.files ?? {}).sort().map((p) => (configs.has(p) ? `%config(noreplace) ${q(p)}` : q(p))),
    ...Object.keys(spec.links ?? {}).sort().map(q),
    ...(spec.dirs ?? []).map((d) => `%dir ${q(d)}`),
    '',
  ];
  for (const [name, body] of Object.entries(spec.scripts ?? {})) lines.push(`%${name}`, body.trimEnd(), '');
  return `${lines.join('\n')}\n`;
}

/** Build `spec` into `outDir`; returns the file name. */
export async function buildRpm(spec: RpmSpec, outDir: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const top = await mkdtemp(join(outDir, `.rpmbuild-${spec.name}-`));
  try {
    const stage = join(top, 'stage');
    await mkdir(stage, { recursive: true });
    for (const [path, entry] of Object.entries(spec.files ?? {})) {
      await mkdir(dirname(join(stage, path)), { recursive: true });
      if ('from' in entry) await copyFile(entry.from, join(stage, path));
      else await writeFile(join(stage, path), entry.text);
      await chmod(join(stage, path), entry.mode);
    }
    for (const [path, target] of Object.entries(spec.links ?? {})) {
      await mkdir(dirname(join(stage, path)), { recursive: true });
      await symlink(target, join(stage, path));
    }
    for (const d of spec.dirs ?? []) await mkdir(join(stage, d), { recursive: true });
    await execa('find', [stage, '-exec', 'touch', '-h', '-d', `@${SOURCE_DATE_EPOCH}`, '{}', '+']);
    const specFile = join(top, `${spec.name}.spec`);
    await writeFile(specFile, specText(spec, stage));
    const file = rpmFileName(spec);
    await execa('rpmbuild', [
      '-bb', '--quiet',
      '--define', `_topdir ${top}`, '--define', `_rpmdir ${outDir}`, '--define', '_rpmfilename %{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}.rpm',
      '--define', '_buildhost ferry-replica', '--define', 'use_source_date_epoch_as_buildtime 1', '--define', 'clamp_mtime_to_source_date_epoch 1',
      '--define', '_binary_payload w6.xzdio',
      specFile,
    ], { env: { SOURCE_DATE_EPOCH } });
    return file;
  } finally {
    await rm(top, { recursive: true, force: true });
  }
}

/** Sign RPMs in place with a key in a private GNUPGHOME (rpmsign --addsign, as the real repos' packages are). */
export async function signRpms(files: readonly string[], key: { home: string; fingerprint: string }): Promise<void> {
  if (files.length === 0) return;
  await execa('rpmsign', ['--addsign', '--define', `_gpg_name ${key.fingerprint}`, '--define', `_gpg_path ${key.home}`, '--define', '__gpg /usr/bin/gpg', ...files], { env: { GNUPGHOME: key.home } });
}
