// cni: Calico from the bundle's manifests/ (images already rewritten to the local registry), patched for this
// cluster (encapsulation, pod CIDR, tunnel MTU, iptables backend: chooseEncapsulation, which the firewall follows
// too), placed on the first control plane and applied server-side. A stamp with the applied manifest's sha256 marks it done.
// Cilium and Flannel are refused before anything changes.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../errors.ts';
import { sh } from '../hosts/shell.ts';
import { renderedFile, type RenderedFile } from '../render/file.ts';
import { bundleManifest } from './bundle-manifest.ts';
import { chooseEncapsulation } from './encapsulation.ts';
import { patchCalicoManifest, type CalicoSettings } from './kube/calico-patch.ts';
import { firstControlPlane, kubectl } from './kube/cluster.ts';
import { FERRY_STATE_DIR } from './os/family.ts';
import { contentDigest, filesToChange, placeFiles } from './place-files.ts';
import type { Phase, PhaseContext } from './phase.ts';
import { requireLock } from './render-inputs.ts';

export const CNI_CONFIG_PATH = '/etc/ferry/cni.yaml';
export const CNI_STAMP_PATH = `${FERRY_STATE_DIR}/cni.applied`;
export const CNI_APPLY_ARGV = kubectl('apply', '--server-side', '--force-conflicts', '-f', CNI_CONFIG_PATH);

/** The CNI settings of this install (encapsulation, backend, MTU), from the install's encapsulation decision. */
export function cniSettings(ctx: PhaseContext): CalicoSettings {
  const chosen = chooseEncapsulation(ctx.inventory, ctx.state.doctorRecommendation);
  return {
    encapsulation: chosen.kind, iptablesBackend: chosen.iptablesBackend, podCidr: ctx.inventory.network.podCidr,
    ...(chosen.mtu !== undefined ? { mtu: chosen.mtu } : {}),
  };
}

/** Refuses a CNI ferry cannot install yet (checked before any change, from the inventory and lock). */
export function checkCniSupported(ctx: PhaseContext): void {
  const lockCni = requireLock(ctx).stack.cni.name;
  for (const [where, name] of [['network.cni in the inventory', ctx.inventory.network.cni], ['stack.cni in the lock', lockCni]] as const)
    if (name !== 'calico') throw new UserError(`${where} is ${name}: ferry installs only Calico for now (Cilium and Flannel: not yet)`, { hint: 'use network.cni: calico' });
}

/** The patched Calico manifest from the bundle, as the file placed on the first control plane. */
export async function cniFile(ctx: PhaseContext): Promise<RenderedFile> {
  checkCniSupported(ctx);
  const { version } = requireLock(ctx).stack.cni;
  const prefix = `manifests/calico/${version}/`;
  const found = (await bundleManifest(ctx)).artifacts.find((a) => a.kind === 'manifest' && a.path.startsWith(prefix));
  if (!found || !ctx.bundleDir) throw new UserError(`the bundle has no Calico ${version} manifest under ${prefix}`, { hint: 'build the bundle with the Calico manifest in its spec (manifests:)' });
  const text = await readFile(join(ctx.bundleDir, found.path), 'utf8');
  return renderedFile(CNI_CONFIG_PATH, patchCalicoManifest(text, cniSettings(ctx), found.path));
}

export const cniPhase: Phase = {
  id: 'cni',
  title: 'Calico from the bundle, patched for this cluster, applied',
  undo: 'reset-kubeadm',
  check: (ctx) => checkCniSupported(ctx),
  targets: (ctx) => [firstControlPlane(ctx.inventory)],
  async isDone({ host }, ctx) {
    const file = await cniFile(ctx);
    const stamp = await host.exec(['cat', CNI_STAMP_PATH], { readOnly: true, allowFailure: true });
    return stamp.stdout.trim() === contentDigest(file.content) && (await filesToChange(host, [file])).length === 0;
  },
  async run({ host }, ctx) {
    const file = await cniFile(ctx);
    await placeFiles(host, await filesToChange(host, [file]));
    await host.exec(CNI_APPLY_ARGV, { timeoutMs: 120_000 });
    await host.exec(sh`mkdir -p ${FERRY_STATE_DIR} && echo ${contentDigest(file.content)} > ${CNI_STAMP_PATH}`);
  },
};
