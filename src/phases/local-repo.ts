// local-repo: point the node's package manager at the bundle's repository on the node (apt `file:` list, or a
// dnf .repo with baseurl=file://), so later phases install offline. Other sources stay as they are: installs
// name ferry's repository alone (see os/debian.ts, os/el.ts).
import { UserError } from '../errors.ts';
import type { RenderedFile } from '../render/file.ts';
import { bundleManifest } from './bundle-manifest.ts';
import { nodeRepoDir, repoGpgKeys } from './bundle-on-node.ts';
import { nodeFacts } from './node-facts.ts';
import { pickFamily } from './os/pick.ts';
import { filesToChange, placeFiles } from './place-files.ts';
import type { Phase, PhaseContext, PhaseTarget } from './phase.ts';
import { requireLock } from './render-inputs.ts';

/** The repository file for this node. */
export async function repoFileFor(target: PhaseTarget, ctx: PhaseContext): Promise<RenderedFile> {
  const family = pickFamily(target.spec.name, await nodeFacts(target, ctx.state));
  const manifest = await bundleManifest(ctx);
  const os = requireLock(ctx).stack.os;
  const dir = nodeRepoDir(manifest, os);
  if (!dir) throw new UserError(`the bundle has no package repository for ${os.id} ${os.version}`, { hint: 'build the bundle for the OS in the lock' });
  return family.repoFile(dir, { gpgKeys: repoGpgKeys(manifest, os, dir) });
}

export const localRepoPhase: Phase = {
  id: 'local-repo',
  title: "point the package manager at the bundle's repository",
  undo: 'reset-local-repo',
  targets: (ctx) => ctx.inventory.hosts,
  async isDone(target, ctx) {
    return (await filesToChange(target.host, [await repoFileFor(target, ctx)])).length === 0;
  },
  async run(target, ctx) {
    await placeFiles(target.host, [await repoFileFor(target, ctx)]);
  },
};
