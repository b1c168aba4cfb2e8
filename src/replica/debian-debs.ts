// Real Debian packages for the replica's content (containerd from a newer suite, bookworm's runc, docker-registry),
// fetched with `apt-get download` under a private apt pointed at this machine's own mirror (read from its apt
// sources, never written down), cached once per suite and package list under the lab cache dir.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { UserError } from '../errors.ts';
import type { DebSource } from '../bundle/sources/deb-plan.ts';
import { privateApt } from '../bundle/sources/deb.ts';
import { machineAptSources } from '../bundle/sources/machine-apt-sources.ts';
import { withFileLock } from '../lab/file-lock.ts';
import { CACHE_DIR } from '../lab/rootfs.ts';

export interface DebianMirror {
  /** The machine's mirror for the Debian archive (what serves bookworm main), no trailing slash. */
  archive: string;
  /** The machine's mirror for debian-security (bookworm-security), no trailing slash. */
  security?: string;
  /** The keyring the machine trusts them with. */
  signedBy?: string;
}

/** The machine's Debian mirrors, from its own apt sources. */
export async function machineDebianMirror(etc = '/etc/apt'): Promise<DebianMirror> {
  const sources = await machineAptSources(etc);
  const archive = sources.find((s) => s.suite === 'bookworm');
  if (!archive) throw new UserError('this machine has no apt source for Debian bookworm main', { hint: 'the replica maps the Debian archive to the machine\'s own mirror: add one to /etc/apt/sources.list.d' });
  const security = sources.find((s) => s.suite === 'bookworm-security');
  return {
    archive: archive.uri.replace(/\/+$/, ''),
    ...(security ? { security: security.uri.replace(/\/+$/, '') } : {}),
    ...(archive.signedBy ? { signedBy: archive.signedBy } : {}),
  };
}

/** Package name → .deb path, for `packages` from `suites` of the machine's Debian mirror (newest candidate wins). */
export async function debianDebs(suites: readonly string[], packages: readonly string[]): Promise<{ dir: string; files: Record<string, string> }> {
  const mirror = await machineDebianMirror();
  const key = createHash('sha256').update(JSON.stringify({ suites, packages, archive: mirror.archive })).digest('hex').slice(0, 12);
  const dir = join(CACHE_DIR, `replica-debian-${key}`);
  const read = async () => {
    const names = (await readdir(dir)).filter((n) => n.endsWith('.deb'));
    const files: Record<string, string> = {};
    for (const p of packages) {
      const found = names.find((n) => n.startsWith(`${p}_`));
      if (!found) throw new UserError(`no ${p} .deb in ${dir}`);
      files[p] = join(dir, found);
    }
    return { dir, files };
  };
  if (existsSync(join(dir, '.ferry-complete'))) return read();
  await mkdir(CACHE_DIR, { recursive: true });
  await withFileLock(join(CACHE_DIR, `replica-debian-${key}.lock`), async () => {
    if (existsSync(join(dir, '.ferry-complete'))) return;
    const work = `${dir}.tmp-${process.pid}`;
    await rm(work, { recursive: true, force: true });
    const sources: DebSource[] = suites.map((suite) => ({
      uri: suite.endsWith('-security') && mirror.security ? mirror.security : mirror.archive,
      suite,
      components: ['main'],
      ...(mirror.signedBy ? { signedBy: mirror.signedBy } : {}),
    }));
    const apt = await privateApt(join(work, 'apt'), sources, 'amd64');
    await execa(apt.apt('apt-get', '-q', 'update')[0]!, apt.apt('apt-get', '-q', 'update').slice(1));
    const get = apt.apt('apt-get', '-q', 'download', ...packages);
    await execa(get[0]!, get.slice(1), { cwd: work });
    await rm(join(work, 'apt'), { recursive: true, force: true });
    await writeFile(join(work, '.ferry-complete'), '');
    await rm(dir, { recursive: true, force: true });
    await rename(work, dir);
  });
  return read();
}

/** A .deb's control fields (`dpkg-deb -f`). */
export async function debFields(deb: string, ...fields: string[]): Promise<Record<string, string>> {
  const { stdout } = await execa('dpkg-deb', ['-f', deb, ...fields]);
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const m = /^([\w-]+): (.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  if (fields.length === 1 && out[fields[0]!] === undefined) out[fields[0]!] = stdout.trim();
  return out;
}
