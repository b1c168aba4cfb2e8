// local-repo: point the node's package manager at the bundle's repository on the node (apt `file:` list, or a
// dnf .repo with baseurl=file://), so later phases install offline. Other sources stay as they are: installs
// name ferry's repository alone (see os/debian.ts, os/el.ts).
import { UserError } from '../errors.ts';
import type { RenderedFile } from '../render/file.ts';
import { bundleManifest } from './bundle-manifest.ts';
import { nodeRepoDir, repoGpgKeys } from './bundle-on-node.ts';
import { nodeFacts } from './node-facts.ts';
import { pickFamily } from './os/pick.ts';
import { filesToChange } from './place-files.ts';
import type { PhaseContext, PhaseTarget, Phase } from './phase.ts';
import { nodeLock } from './node-lock.ts';
import { place, type Step } from './step.ts';

/** The repository file for this node. */
export async function repoFileFor(target: Pick<PhaseTarget, 'spec' | 'host'>, ctx: PhaseContext): Promise<RenderedFile> {
  const family = pickFamily(target.spec.name, await nodeFacts(target, ctx.state));
  const manifest = await bundleManifest(ctx);
  const os = (await nodeLock(target, ctx)).stack.os;
  const dir = nodeRepoDir(manifest, os);
  if (!dir) throw new UserError(`the bundle has no package repository for ${os.id} ${os.version}`, { hint: 'build the bundle for the OS in the lock' });
  return family.repoFile(dir, { gpgKeys: repoGpgKeys(manifest, os, dir) });
}

/** What local-repo sees on a node: the repository file, when its content there differs (or it is missing). */
export interface LocalRepoSeen {
  changed: RenderedFile[];
}

/** The repository file placed (checked, then moved into place) when it differs; nothing when it is there. */
export function planLocalRepo(seen: LocalRepoSeen): Step[] {
  return place(...seen.changed);
}

export const localRepoPhase: Phase<Record<string, unknown>, LocalRepoSeen> = {
  id: 'local-repo',
  title: "point the package manager at the bundle's repository",
  undo: 'reset-local-repo',
  targets: (ctx) => ctx.inventory.hosts,
  async observe(target, ctx) {
    return { changed: await filesToChange(target.host, [await repoFileFor(target, ctx)]) };
  },
  plan: (seen) => planLocalRepo(seen),
};
