// The playbooks shipped with ferry: read from the single executable's assets when ferry runs as one (the air-gapped
// admin host has no checkout), else from the checkout; or a playbook file the user names.
import { loadYamlFile } from '../config/load.ts';
import { parseYaml } from '../config/parse.ts';
import { Playbook } from '../config/playbook.ts';
import { productFile } from '../ship/embedded.ts';

export type PlaybookCommand = 'install' | 'reset' | 'add-node' | 'upgrade' | 'certs-renew';

/** How the user types a playbook command (`certs-renew` is `ferry certs renew`). */
export const commandWords = (command: PlaybookCommand): string => (command === 'certs-renew' ? 'certs renew' : command);

/**
 * The playbook for a command (`path` given: that file), with the name errors and progress use for it. reset has none
 * of its own: it reverses the install playbook (src/phases/undo.ts), so it reads that one.
 */
export async function readPlaybook(command: PlaybookCommand, path?: string): Promise<{ playbook: Playbook; source: string }> {
  if (path !== undefined) return { playbook: await loadYamlFile(path, Playbook), source: path };
  const source = `playbooks/${command === 'reset' ? 'install' : command}.yaml` as const;
  return { playbook: parseYaml(await productFile(source), source, Playbook), source };
}
