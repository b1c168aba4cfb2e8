// gpu-addons (first control plane, after the CNI): the `nvidia` RuntimeClass and the NVIDIA device plugin
// DaemonSet applied server-side from /etc/ferry/gpu-addons.yaml, and every GPU node labelled
// nvidia.com/gpu.present=true so the device plugin runs there. Talks to the cluster only through kubectl.
import type { RenderedFile } from '../render/file.ts';
import { GPU_ADDONS_PATH, GPU_LABEL, renderGpuAddons } from '../render/gpu-addons.ts';
import { firstControlPlane, kubectl } from './kube/cluster.ts';
import { filesToChange } from './place-files.ts';
import type { PhaseContext, Phase } from './phase.ts';
import { gpuHosts } from './gpu-driver.ts';
import { LOCAL_REGISTRY, requireLock } from './render-inputs.ts';
import { exec, place, type Step } from './step.ts';

/** Node names (from `kubectl get nodes -o json`) that carry the GPU label. Pure. */
export function labelledNodes(json: string): Set<string> {
  const list = JSON.parse(json) as { items?: { metadata?: { name?: string; labels?: Record<string, string> } }[] };
  return new Set((list.items ?? []).filter((n) => n.metadata?.labels?.[GPU_LABEL.key] === GPU_LABEL.value).map((n) => n.metadata!.name!));
}

function addonsFile(ctx: PhaseContext) {
  return renderGpuAddons({ images: requireLock(ctx).images, registry: `${LOCAL_REGISTRY.name}:${LOCAL_REGISTRY.port}` });
}

/** What gpu-addons sees on the first control plane. */
export interface AddonsSeen {
  /** The manifest when the node's copy differs from it. */
  changed: RenderedFile[];
  /** The GPU nodes of the inventory, and those the API lists with the label (undefined: the API did not answer). */
  gpuNodes: string[];
  labelled?: string[];
}

/** The steps from what was seen: the manifest placed where it differs, applied, and every GPU node labelled. */
export function planGpuAddons(seen: AddonsSeen): Step[] {
  const labelled = new Set(seen.labelled ?? []);
  if (seen.changed.length === 0 && seen.labelled && seen.gpuNodes.every((n) => labelled.has(n))) return [];
  return [
    ...place(...seen.changed),
    exec(kubectl('apply', '--server-side', '--force-conflicts', '-f', GPU_ADDONS_PATH), { timeoutMs: 120_000 }),
    ...seen.gpuNodes.map((name) => exec(kubectl('label', 'node', name, `${GPU_LABEL.key}=${GPU_LABEL.value}`, '--overwrite'))),
  ];
}

export const gpuAddonsPhase: Phase<Record<string, unknown>, AddonsSeen> = {
  id: 'gpu-addons',
  title: 'NVIDIA RuntimeClass and device plugin; GPU nodes labelled',
  undo: 'reset-gpu-addons',
  // The first control plane, and only when the cluster has GPU nodes and the lock a driver.
  targets: (ctx) => (gpuHosts(ctx).length > 0 && requireLock(ctx).stack.nvidiaDriver ? [firstControlPlane(ctx.inventory)] : []),
  async observe({ host }, ctx) {
    const changed = await filesToChange(host, [addonsFile(ctx)]);
    const nodes = await host.exec(kubectl('get', 'nodes', '-o', 'json'), { allowFailure: true });
    return {
      changed, gpuNodes: gpuHosts(ctx).map((h) => h.name),
      ...(nodes.exitCode === 0 ? { labelled: [...labelledNodes(nodes.stdout)] } : {}),
    };
  },
  plan: (seen) => planGpuAddons(seen),
};
