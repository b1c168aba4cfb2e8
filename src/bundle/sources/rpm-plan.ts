// The pure half of the RPM source: dnf's command line, and reading what dnf and repomd.xml say.
import { UserError, VerifyError } from '../../errors.ts';
import type { Nevra } from './rpm-version.ts';

export interface RpmRepo {
  id: string;
  baseurl: string;
  gpgcheck?: boolean;
  gpgkey?: string;
  module_hotfixes?: boolean;
}

/** dnf and rpm spell architectures the kernel way; Debian-style names are accepted too. */
export function rpmArch(arch: string): string {
  return ({ amd64: 'x86_64', arm64: 'aarch64' } as Record<string, string>)[arch] ?? arch;
}

/**
 * argv for `dnf install --downloadonly` that sees only the given repos, for the target release and arch:
 * host config and repo files are ignored (`-c` an empty config, `reposdir=/dev/null`), weak deps are left out
 * (a missing Recommends never fails an install), the platform module is named (there is no os-release to detect
 * it from), and `-v` makes dnf print each resolved package on one line.
 */
export function dnfDownloadArgs(o: {
  configFile: string;
  installroot: string;
  releasever: string;
  arch: string;
  repos: readonly RpmRepo[];
  downloaddir: string;
  packages: readonly string[];
}): string[] {
  const args = [
    'dnf',
    '-v',
    '-y',
    `--config=${o.configFile}`,
    `--installroot=${o.installroot}`,
    `--releasever=${o.releasever}`,
    `--forcearch=${rpmArch(o.arch)}`,
    '--setopt=reposdir=/dev/null',
    '--setopt=install_weak_deps=False',
    // The installroot has no os-release, so dnf cannot detect the platform module that EL8/EL9 streams require.
    `--setopt=module_platform_id=platform:el${o.releasever.split('.')[0]}`,
    '--disableplugin=*',
  ];
  for (const repo of o.repos) {
    if (!/^[A-Za-z0-9._:-]+$/.test(repo.id)) throw new UserError(`repo id ${JSON.stringify(repo.id)} may hold only letters, digits and . _ : -`);
    args.push(`--repofrompath=${repo.id},${repo.baseurl}`, `--setopt=${repo.id}.gpgcheck=${repo.gpgcheck ? 1 : 0}`);
    if (repo.gpgkey) args.push(`--setopt=${repo.id}.gpgkey=${repo.gpgkey}`);
    if (repo.module_hotfixes) args.push(`--setopt=${repo.id}.module_hotfixes=1`);
  }
  args.push(`--repo=${o.repos.map((r) => r.id).join(',')}`);
  args.push('install', '--downloadonly', `--downloaddir=${o.downloaddir}`, ...o.packages);
  return args;
}

/**
 * The packages dnf will fetch, from `-v` lines like `---> Package fa.noarch 1:1.0-1 will be installed` (or `will be
 * an upgrade`; the package it replaces says `will be upgraded` and is not fetched).
 */
export function parseDnfResolved(stdout: string): Nevra[] {
  const out: Nevra[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^---> Package (\S+)\.([^.\s]+) (?:(\d+):)?(\S+)-(\S+) will be (?:installed|an upgrade)$/.exec(line.trim());
    if (m) out.push({ name: m[1]!, arch: m[2]!, epoch: Number(m[3] ?? 0), version: m[4]!, release: m[5]! });
  }
  return out;
}

export interface DnfProblems {
  /** `nothing provides X needed by Y`. */
  nothingProvides: { what: string; neededBy: string }[];
  /** Requested names no repo has (module streams as `@module:stream`). */
  noMatch: string[];
  /** Signature failures dnf reported for repos with gpgcheck (unsigned package, unknown or wrong key). */
  signature: string[];
  /** Other `Problem`/`Error` lines, as dnf wrote them. */
  other: string[];
}

/** What went wrong in a failed dnf run, from its output. */
export function parseDnfProblems(output: string): DnfProblems {
  const problems: DnfProblems = { nothingProvides: [], noMatch: [], signature: [], other: [] };
  for (const raw of output.split('\n')) {
    const line = raw.trim();
    const provides = /nothing provides (.+?) needed by (\S+)/.exec(line);
    const noMatch = /^No match for argument: (\S+)/.exec(line);
    // dnf 4.14: `Module or Group 'nvidia-driver:580-open-gpu' is not available.` (test/fixtures/dnf/module-not-available.txt)
    const noModule = /^Module or Group '([^']+)' is not available/.exec(line);
    const signature = /^(Package \S+ is not signed|Public key for \S+ is not installed|.*not correct for this package|.*: digests SIGNATURES NOT OK)/.exec(line);
    if (provides) problems.nothingProvides.push({ what: provides[1]!, neededBy: provides[2]! });
    else if (signature) problems.signature.push(signature[1]!);
    else if (noMatch) problems.noMatch.push(noMatch[1]!);
    else if (noModule) problems.noMatch.push(`@${noModule[1]}`);
    // dnf 4.14: `No default profiles for module nvidia-driver:620-open. Available profiles: default` (the repo's
    // modules.yaml has the stream but no defaults document naming its default profile; fixture no-default-profile.txt)
    else if (/^No default profiles for module \S+/.test(line)) problems.other.push(line);
    else if (/^(Error|Problem|- )/.test(line) && !/^Error: *$/.test(line) && !/Unable to find a match/.test(line)) problems.other.push(line);
  }
  return problems;
}

/** The requested names a failed run lacked, when that is all that went wrong (so another package set may resolve). */
export function onlyMissing(problems: DnfProblems): string[] | undefined {
  const only = problems.noMatch.length > 0 && problems.nothingProvides.length === 0 && problems.signature.length === 0;
  return only ? problems.noMatch : undefined;
}

/** The error for a failed dnf run: names each package and what nothing provides, or which signatures failed. */
export function dnfFailure(problems: DnfProblems, repos: readonly RpmRepo[]): UserError | VerifyError {
  if (problems.signature.length > 0 && problems.nothingProvides.length === 0 && problems.noMatch.length === 0) {
    return new VerifyError(problems.signature, { hint: 'check the gpgkey of the repo in the bundle spec; ferry never bundles a package whose signature fails' });
  }
  const lines = [
    ...problems.nothingProvides.map((p) => `${p.neededBy} needs ${p.what}, which nothing in the repos provides`),
    ...problems.noMatch.map((n) => `no repo has a package named ${n}`),
  ];
  if (lines.length === 0) lines.push(...(problems.other.length ? problems.other : ['dnf failed without saying why']));
  return new UserError(`cannot resolve the RPM packages against ${repos.map((r) => r.id).join(', ')}:\n  ${lines.join('\n  ')}`, {
    hint: 'add the repository that provides it to the bundle spec, or drop the package that needs it',
  });
}

/** The `location href` of one data type in a repomd.xml (e.g. `modules`), or undefined when the repo has none. */
export function repomdLocation(repomdXml: string, type: string): string | undefined {
  for (const m of repomdXml.matchAll(/<data\s+type="([^"]+)"\s*>([\s\S]*?)<\/data>/g)) {
    if (m[1] !== type) continue;
    return /<location\s+href="([^"]+)"/.exec(m[2]!)?.[1];
  }
  return undefined;
}
