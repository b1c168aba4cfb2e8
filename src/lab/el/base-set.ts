// The base set of an EL lab node (src/lab/el/rocky-<release>-base.txt): a sourced list of a minimal install's packages,
// each made a provides-only RPM (no files) with rpmbuild. The node image puts them in its rpm database; the replica
// serves them in the distribution's BaseOS, so a bundle's dependency closure resolves as against the real one.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildRpm, rpmFileName, type RpmSpec } from '../../replica/rpm-builder.ts';
import { buildCachedDir } from '../file-lock.ts';
import { CACHE_DIR } from '../rootfs.ts';

/** One installed package of the base set. */
export interface BasePackage {
  name: string;
  epoch?: number;
  version: string;
  release: string;
  arch: 'x86_64' | 'noarch';
  provides: string[];
  conflicts: string[];
}

/** The list file of an EL release (e.g. `9.4` → rocky-9.4-base.txt). */
export function baseListFile(release: string): string {
  return new URL(`./rocky-${release}-base.txt`, import.meta.url).pathname;
}

/** Parse the list: `name-[epoch:]version-release.arch [| provides, ...] [| conflicts: ...]`, `#` comments. Pure. */
export function parseBaseList(text: string): BasePackage[] {
  const out: BasePackage[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [nevra, ...rest] = line.split('|').map((s) => s.trim());
    const m = /^(.+)-(?:(\d+):)?([^-]+)-([^-]+)\.(x86_64|noarch)$/.exec(nevra!);
    if (!m) throw new Error(`not a NEVRA: ${nevra}`);
    const provides: string[] = [];
    const conflicts: string[] = [];
    for (const part of rest) {
      const c = /^conflicts:\s*(.+)$/.exec(part);
      (c ? conflicts : provides).push(...(c ? c[1]! : part).split(',').map((s) => s.trim()).filter(Boolean));
    }
    out.push({ name: m[1]!, ...(m[2] ? { epoch: Number(m[2]) } : {}), version: m[3]!, release: m[4]!, arch: m[5] as BasePackage['arch'], provides, conflicts });
  }
  return out;
}

/** The provides-only RPM of one base package. Pure. */
export function baseRpmSpec(p: BasePackage): RpmSpec {
  return {
    name: p.name, ...(p.epoch ? { epoch: p.epoch } : {}), version: p.version, release: p.release, arch: p.arch,
    summary: `${p.name} as installed on a minimal EL system (ferry lab: provides only, no files)`,
    provides: p.provides, conflicts: p.conflicts, license: 'see the real package',
  };
}

/** The base set's RPMs for `release`, built once per list content (cached under the lab cache dir). */
export async function baseSetRpms(release: string): Promise<{ dir: string; files: string[]; packages: BasePackage[] }> {
  const text = await readFile(baseListFile(release), 'utf8');
  const packages = parseBaseList(text);
  const key = createHash('sha256').update(JSON.stringify({ v: 1, packages })).digest('hex').slice(0, 12);
  const dir = join(CACHE_DIR, `el-base-rpms-${key}`);
  const files = packages.map((p) => join(dir, rpmFileName(baseRpmSpec(p))));
  await buildCachedDir(dir, async (work) => {
    for (const p of packages) await buildRpm(baseRpmSpec(p), work);
  });
  return { dir, files, packages };
}
