// gpu-addons (first control plane, after the CNI): the `nvidia` RuntimeClass and the NVIDIA device plugin
// DaemonSet applied server-side from /etc/ferry/gpu-addons.yaml, and every GPU node labelled
// nvidia.com/gpu.present=true so the device plugin runs there. Talks to the cluster only through kubectl.
import { GPU_ADDONS_PATH, GPU_LABEL, renderGpuAddons } from '../render/gpu-addons.ts';
import { firstControlPlane, kubectl } from './kube/cluster.ts';
import { filesToChange, placeFiles } from './place-files.ts';
import type { Phase, PhaseContext } from './phase.ts';
import { gpuHosts } from './gpu-driver.ts';
import { LOCAL_REGISTRY, requireLock } from './render-inputs.ts';

/** Node names (from `kubectl get nodes -o json`) that carry the GPU label. Pure. */
export function labelledNodes(json: string): Set<string> {
  const list = JSON.parse(json) as { items?: { metadata?: { name?: string; labels?: Record<string, string> } }[] };
  return new Set((list.items ?? []).filter((n) => n.metadata?.labels?.[GPU_LABEL.key] === GPU_LABEL.value).map((n) => n.metadata!.name!));
}

function addonsFile(ctx: PhaseContext) {
  return renderGpuAddons({ images: requireLock(ctx).images, registry: `${LOCAL_REGISTRY.name}:${LOCAL_REGISTRY.port}` });
}

export const gpuAddonsPhase: Phase = {
  id: 'gpu-addons',
  title: 'NVIDIA RuntimeClass and device plugin; GPU nodes labelled',
  undo: 'reset-gpu-addons',
  // The first control plane, and only when the cluster has GPU nodes and the lock a driver.
  targets: (ctx) => (gpuHosts(ctx).length > 0 && requireLock(ctx).stack.nvidiaDriver ? [firstControlPlane(ctx.inventory)] : []),
  async isDone(target, ctx) {
    if ((await filesToChange(target.host, [addonsFile(ctx)])).length > 0) return false;
    const nodes = await target.host.exec(kubectl('get', 'nodes', '-o', 'json'), { readOnly: true, allowFailure: true });
    if (nodes.exitCode !== 0) return false;
    const labelled = labelledNodes(nodes.stdout);
    return gpuHosts(ctx).every((h) => labelled.has(h.name));
  },
  async run(target, ctx) {
    const { host } = target;
    await placeFiles(host, await filesToChange(host, [addonsFile(ctx)]));
    await host.exec(kubectl('apply', '--server-side', '--force-conflicts', '-f', GPU_ADDONS_PATH), { timeoutMs: 120_000 });
    for (const gpu of gpuHosts(ctx)) await host.exec(kubectl('label', 'node', gpu.name, `${GPU_LABEL.key}=${GPU_LABEL.value}`, '--overwrite'));
  },
};
