// cni: Calico from the bundle's manifests/ (images already rewritten to the local registry), patched for this
// cluster (encapsulation, pod CIDR, tunnel MTU, iptables backend: chooseEncapsulation, which the firewall follows
// too), placed on the first control plane and applied server-side. A stamp with the applied manifest's sha256 marks it done.
// Cilium and Flannel are refused before anything changes.
import { join } from 'node:path';
import { UserError } from '../errors.ts';
import type { Host } from '../hosts/host.ts';
import { sh } from '../hosts/shell.ts';
import { renderedFile, type RenderedFile } from '../render/file.ts';
import { bundleManifest } from './bundle-manifest.ts';
import { chooseEncapsulation } from './encapsulation.ts';
import { patchCalicoManifest, type CalicoSettings } from './kube/calico-patch.ts';
import { firstControlPlane, kubectl } from './kube/cluster.ts';
import { FERRY_STATE_DIR } from './os/family.ts';
import { contentDigest, filesToChange } from './place-files.ts';
import type { PhaseContext, Phase } from './phase.ts';
import { requireLock } from './render-inputs.ts';
import { exec, place, type Step } from './step.ts';

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

/** The patched Calico manifest from the bundle (read through the admin host), as the file placed on the first control plane. */
export async function cniFile(ctx: PhaseContext, admin: Host): Promise<RenderedFile> {
  checkCniSupported(ctx);
  const { version } = requireLock(ctx).stack.cni;
  const prefix = `manifests/calico/${version}/`;
  const found = (await bundleManifest(ctx)).artifacts.find((a) => a.kind === 'manifest' && a.path.startsWith(prefix));
  if (!found || !ctx.bundleDir) throw new UserError(`the bundle has no Calico ${version} manifest under ${prefix}`, { hint: 'build the bundle with the Calico manifest in its spec (manifests:)' });
  const text = (await admin.readFile(join(ctx.bundleDir, found.path))).toString('utf8');
  return renderedFile(CNI_CONFIG_PATH, patchCalicoManifest(text, cniSettings(ctx), found.path));
}

/** What cni sees on the first control plane: the manifest it would place, whether the node's copy differs, the stamp. */
export interface CniSeen {
  file: RenderedFile;
  changed: boolean;
  /** The sha256 the stamp holds ('' without one). */
  stamp: string;
}

/** The steps from what was seen: the manifest placed where it differs, applied, stamped; [] when the stamp names it. */
export function planCni(seen: CniSeen): Step[] {
  const digest = contentDigest(seen.file.content);
  if (seen.stamp === digest && !seen.changed) return [];
  return [
    ...(seen.changed ? place(seen.file) : []),
    exec(CNI_APPLY_ARGV, { timeoutMs: 120_000 }),
    exec(sh`mkdir -p ${FERRY_STATE_DIR} && echo ${digest} > ${CNI_STAMP_PATH}`),
  ];
}

export const cniPhase: Phase<Record<string, unknown>, CniSeen> = {
  id: 'cni',
  title: 'Calico from the bundle, patched for this cluster, applied',
  undo: 'reset-kubeadm',
  check: (ctx) => checkCniSupported(ctx),
  targets: (ctx) => [firstControlPlane(ctx.inventory)],
  async observe({ host, admin }, ctx) {
    const file = await cniFile(ctx, admin);
    const stamp = await host.exec(['cat', CNI_STAMP_PATH], { allowFailure: true });
    return { file, changed: (await filesToChange(host, [file])).length > 0, stamp: stamp.exitCode === 0 ? stamp.stdout.trim() : '' };
  },
  plan: (seen) => planCni(seen),
};
