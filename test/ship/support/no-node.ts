// Test support: an environment in which no Node can be found, to prove the single executable needs none.
import { mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

/** A PATH with every program of /usr/bin except Node and npm, so nothing can fall back to a Node install. */
export function pathWithoutNode(into: string): string {
  const bin = join(into, 'bin');
  mkdirSync(bin);
  for (const name of readdirSync('/usr/bin'))
    if (!/^(node|nodejs|npm|npx|corepack)$/.test(name)) symlinkSync(join('/usr/bin', name), join(bin, name));
  return `${bin}:/usr/sbin:/sbin`;
}
