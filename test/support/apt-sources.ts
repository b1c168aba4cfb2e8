// The machine's own apt sources, read at test time, so Debian tests use whatever mirror the machine is configured
// for and no mirror address is ever written into the repo.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DebSource } from '../../src/bundle/sources/deb-plan.ts';
import { parseSourcesDeb822, parseSourcesList } from '../../src/bundle/sources/apt-sources.ts';

async function readIfThere(path: string): Promise<string> {
  return readFile(path, 'utf8').catch(() => '');
}

/** Binary sources from /etc/apt/sources.list and /etc/apt/sources.list.d/ (*.sources, *.list), main component only. */
export async function machineAptSources(etc = '/etc/apt'): Promise<DebSource[]> {
  const out = parseSourcesList(await readIfThere(join(etc, 'sources.list')));
  const names = await readdir(join(etc, 'sources.list.d')).catch(() => [] as string[]);
  for (const name of names.sort()) {
    const text = await readIfThere(join(etc, 'sources.list.d', name));
    if (name.endsWith('.sources')) out.push(...parseSourcesDeb822(text));
    else if (name.endsWith('.list')) out.push(...parseSourcesList(text));
  }
  return out.filter((s) => s.components.includes('main')).map((s) => ({ ...s, components: ['main'] }));
}
