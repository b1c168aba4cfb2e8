// The pure half of the Debian source: apt's private configuration, sources lines, the status file for a node's
// installed set, and reading what apt-get says.
import { UserError } from '../../errors.ts';
import type { Stanza } from './deb822.ts';

export interface DebSource {
  uri: string;
  suite: string;
  components: string[];
  signedBy?: string;
  trusted?: boolean;
}

export interface DebPackage {
  name: string;
  version: string;
  arch: string;
}

/** Debian spells architectures its own way; kernel-style names are accepted too. */
export function debArch(arch: string): string {
  return ({ x86_64: 'amd64', aarch64: 'arm64' } as Record<string, string>)[arch] ?? arch;
}

/** One-line sources.list entries for apt, restricted to the target arch. */
export function sourcesList(sources: readonly DebSource[], arch: string): string {
  return sources
    .map((s) => {
      const words = [s.uri, s.suite, ...s.components, ...(s.signedBy ? [s.signedBy] : [])];
      if (words.some((w) => w === '' || /[\s\[\]]/.test(w))) throw new UserError(`apt source ${s.uri} ${s.suite}: a field is empty or has spaces or brackets`);
      const opts = [`arch=${debArch(arch)}`];
      if (s.signedBy) opts.push(`signed-by=${s.signedBy}`);
      if (s.trusted) opts.push('trusted=yes');
      // A suite ending in `/` is a flat repository: it takes no components.
      return `${['deb', `[${opts.join(' ')}]`, s.uri, s.suite, ...(s.suite.endsWith('/') ? [] : s.components)].join(' ')}\n`;
    })
    .join('');
}

export interface AptDirs {
  sourcelist: string;
  state: string;
  status: string;
  cache: string;
  log: string;
  /** An empty directory, so only keys named by signed-by count. */
  trustedparts: string;
}

/**
 * `-o` options that make apt-get see only our sources, state, cache and status, for the target arch. The host's
 * apt.conf.d still applies (proxies, snapshot-mirror date checks); nothing of the host's sources, keys, pins or
 * dpkg status does. Recommends are left out: a missing Recommends never fails an install.
 */
export function aptOptions(dirs: AptDirs, arch: string, sandboxUser?: string): string[] {
  const a = debArch(arch);
  const set: [string, string][] = [
    ['Dir::Etc::sourcelist', dirs.sourcelist],
    ['Dir::Etc::sourceparts', '/dev/null'],
    ['Dir::Etc::trusted', `${dirs.trustedparts}/none.gpg`],
    ['Dir::Etc::trustedparts', dirs.trustedparts],
    ['Dir::Etc::preferences', '/dev/null'],
    ['Dir::Etc::preferencesparts', '/dev/null'],
    ['Dir::State', dirs.state],
    ['Dir::State::status', dirs.status],
    ['Dir::Cache', dirs.cache],
    // Some images (Debian's docker one) turn the binary caches off; without them every call re-parses all indexes.
    ['Dir::Cache::pkgcache', 'pkgcache.bin'],
    ['Dir::Cache::srcpkgcache', 'srcpkgcache.bin'],
    ['Dir::Log', dirs.log],
    ['APT::Architecture', a],
    ['APT::Architectures', a],
    ['APT::Install-Recommends', 'false'],
    ['APT::Install-Suggests', 'false'],
    ['Debug::NoLocking', '1'],
  ];
  if (sandboxUser) set.push(['APT::Sandbox::User', sandboxUser]);
  return set.flatMap(([k, v]) => ['-o', `${k}=${v}`]);
}

/** The packages of apt's transaction, from `apt-get -s install` lines like `Inst libc6 (2.36-9 Debian:12.5/stable [amd64])`. */
export function parseAptSimulation(stdout: string): DebPackage[] {
  const out: DebPackage[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^Inst (\S+)(?: \[[^\]]*\])? \((\S+) .*\[([^\]]+)\]\)/.exec(line);
    if (m) out.push({ name: m[1]!, version: m[2]!, arch: m[3]! });
  }
  return out;
}

/** The file name apt gives a downloaded package in its archives directory (the epoch colon is escaped). */
export function archiveFileName(p: DebPackage): string {
  return `${p.name}_${p.version.replace(':', '%3a')}_${p.arch}.deb`;
}

/** The packages a failed apt run could not find, when that is all that went wrong (so another set may resolve). */
export function aptMissing(output: string): string[] | undefined {
  const errors = output.split('\n').filter((l) => l.startsWith('E: '));
  const missing = errors.map((l) => /^E: Unable to locate package (\S+)/.exec(l)?.[1] ?? /^E: Package '([^']+)' has no installation candidate/.exec(l)?.[1] ?? /^E: Version '[^']+' for '([^']+)' was not found/.exec(l)?.[1]);
  return missing.length > 0 && missing.every((m) => m !== undefined) ? (missing as string[]) : undefined;
}

/** The UserError for a failed apt resolution: names packages that do not exist and dependencies that cannot be met. */
export function aptFailure(output: string): UserError {
  const lines: string[] = [];
  for (const raw of output.split('\n')) {
    const line = raw.trimEnd();
    const locate = /^E: Unable to locate package (\S+)/.exec(line);
    const noCandidate = /^E: Package '([^']+)' has no installation candidate/.exec(line);
    const noVersion = /^E: Version '([^']+)' for '([^']+)' was not found/.exec(line);
    const unmet = /^\s*(\S+)?\s*: (Depends|PreDepends|Pre-Depends): (.+)$/.exec(line);
    if (locate) lines.push(`no source has a package named ${locate[1]}`);
    else if (noCandidate) lines.push(`${noCandidate[1]} has no installation candidate`);
    else if (noVersion) lines.push(`no source has ${noVersion[2]} at version ${noVersion[1]}`);
    else if (unmet) lines.push(`${unmet[1] ?? '(same)'} ${unmet[2]}: ${unmet[3]}`);
  }
  if (lines.length === 0) lines.push(...output.split('\n').filter((l) => l.startsWith('E: ')).slice(0, 5));
  if (lines.length === 0) lines.push('apt-get failed without saying why');
  return new UserError(`cannot resolve the Debian packages:\n  ${lines.join('\n  ')}`, {
    hint: 'add the source (suite or component) that has it to the bundle spec, or drop the package that needs it',
  });
}

/** A node's installed package as given: `name`, `name=version`, `name:arch=version`, or a `dpkg-query -W` line. */
export function parseInstalledDeb(entry: string): { name: string; arch?: string; version?: string } {
  const [head = '', tab] = entry.trim().split('\t');
  const [nameArch = '', eq] = tab === undefined ? head.split('=') : [head, tab];
  const [name = '', arch] = nameArch.split(':');
  return { name, arch, version: eq?.trim() || undefined };
}

/** What a node's package at a version the sources no longer have surely still is: what it provides, its multi-arch
 * kind, whether it is essential (a frozen node's perl-base 5.36.0-7+deb12u2 still provides perlapi-5.36.0 when the
 * archive has only deb12u4). Its dependencies are not borrowed: dpkg already satisfied them on the node. */
const BORROWED_FIELDS = ['Provides', 'Multi-Arch', 'Essential'];

/**
 * A dpkg status file that says the node's packages are installed. Each stanza is the repository's own (so its
 * Depends, Provides and Breaks are real) with `Status: install ok installed`; a package at a version the sources
 * do not have gets a bare stanza with the Provides, Multi-Arch and Essential of the version they have (without them
 * apt finds every package that needs `perl:any` or `perlapi-5.36.0` broken). Entries with neither a version nor a
 * stanza are returned as `unknown`.
 */
export function statusFile(installed: readonly string[], known: readonly Stanza[], arch: string): { text: string; unknown: string[] } {
  const byName = new Map<string, Stanza[]>();
  for (const s of known) if (s.Package) byName.set(s.Package, [...(byName.get(s.Package) ?? []), s]);
  const out: string[] = [];
  const unknown: string[] = [];
  const seen = new Set<string>();
  for (const entry of installed) {
    const want = parseInstalledDeb(entry);
    if (want.name === '' || seen.has(want.name)) continue;
    const candidates = byName.get(want.name) ?? [];
    const stanza = want.version === undefined ? candidates[0] : candidates.find((s) => s.Version === want.version);
    if (stanza === undefined && want.version === undefined) {
      unknown.push(entry);
      continue;
    }
    seen.add(want.name);
    const other = candidates[0];
    const borrowed = Object.fromEntries(BORROWED_FIELDS.flatMap((k) => (other?.[k] !== undefined ? [[k, other[k]!]] : [])));
    const base: Stanza = stanza ?? { Package: want.name, Version: want.version!, Architecture: want.arch ?? debArch(arch), ...borrowed };
    const fields = Object.entries(base).filter(([k]) => !['Status', 'Filename', 'Size', 'MD5sum', 'SHA256', 'SHA1', 'Description-md5'].includes(k));
    fields.splice(1, 0, ['Status', 'install ok installed']);
    out.push(fields.map(([k, v]) => `${k}: ${v}\n`).join(''));
  }
  return { text: out.join('\n'), unknown };
}
