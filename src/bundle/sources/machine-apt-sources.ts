// The machine's own apt sources, read at test time, so Debian tests use whatever mirror the machine is configured
// for and no mirror address is ever written into the repo.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DebSource } from './deb-plan.ts';
import { parseSourcesDeb822, parseSourcesList } from './apt-sources.ts';

async function readIfThere(path: string): Promise<string> {
  return readFile(path, 'utf8').catch(() => '');
}

/** The keyrings apt trusts for a source without signed-by: trusted.gpg and trusted.gpg.d/*.gpg|*.asc. */
async function hostTrustedKeyrings(etc: string): Promise<string[]> {
  const parts = await readdir(join(etc, 'trusted.gpg.d')).catch(() => [] as string[]);
  const files = parts.filter((n) => n.endsWith('.gpg') || n.endsWith('.asc')).sort().map((n) => join(etc, 'trusted.gpg.d', n));
  const legacy = join(etc, 'trusted.gpg');
  return (await readFile(legacy).then(() => true, () => false)) ? [legacy, ...files] : files;
}

/**
 * Binary sources from /etc/apt/sources.list and /etc/apt/sources.list.d/ (*.sources, *.list), main component only.
 * A source without signed-by is trusted by the host's keyrings there, so it gets them named explicitly: the
 * private apt of the tests trusts nothing else.
 */
export async function machineAptSources(etc = '/etc/apt'): Promise<DebSource[]> {
  const out = parseSourcesList(await readIfThere(join(etc, 'sources.list')));
  const names = await readdir(join(etc, 'sources.list.d')).catch(() => [] as string[]);
  for (const name of names.sort()) {
    const text = await readIfThere(join(etc, 'sources.list.d', name));
    if (name.endsWith('.sources')) out.push(...parseSourcesDeb822(text));
    else if (name.endsWith('.list')) out.push(...parseSourcesList(text));
  }
  const keyrings = (await hostTrustedKeyrings(etc)).join(',');
  return out
    .filter((s) => s.components.includes('main'))
    .map((s) => ({ ...s, components: ['main'], ...(s.signedBy || s.trusted || keyrings === '' ? {} : { signedBy: keyrings }) }));
}
