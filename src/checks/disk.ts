// Disk headroom: after the bundle's images are loaded, image GC must not start and eviction must not fire.
import type { Facts } from '../facts/types.ts';
import { hostFinding, type Finding, type NodeCheck, type NodeContext } from './types.ts';

/** kubelet defaults: imageGCHighThresholdPercent 85; evictionHard imagefs.available 15%, nodefs.available 10%. */
export const KUBELET_GC = { imageGcHighPercent: 85, imagefsEvictionPercent: 15, nodefsEvictionPercent: 10 } as const;

const GIB = 1024 ** 3;
const gib = (bytes: number) => `${(bytes / GIB).toFixed(1)} GiB`;

function diskHeadroom(facts: Facts, ctx: NodeContext): Finding[] {
  const id = 'disk-headroom';
  const images = facts.disks.find((d) => d.path === '/var/lib/containerd');
  const kubelet = facts.disks.find((d) => d.path === '/var/lib/kubelet');
  if (!images || !kubelet) return [hostFinding(id, facts.host, 'warn', 'could not read disk usage (df)', 'check df -P /var/lib/containerd /var/lib/kubelet')];
  const need = ctx.plan.imageBytes;
  const size = images.sizeKb * 1024;
  const usedAfter = images.usedKb * 1024 + (need ?? 0);
  const pct = (usedAfter / size) * 100;
  const where = `/var/lib/containerd on ${images.mount}`;
  const what = need === undefined ? `now ${pct.toFixed(0)}% used (no bundle given: image sizes unknown)` : `${gib(need)} of images would bring it to ${pct.toFixed(0)}% of ${gib(size)}`;
  const grow = 'grow the volume, or give /var/lib/containerd its own disk';
  const out: Finding[] = [];
  if (100 - pct < KUBELET_GC.imagefsEvictionPercent)
    out.push(hostFinding(id, facts.host, 'fail', `${where}: ${what}; under ${KUBELET_GC.imagefsEvictionPercent}% free, kubelet evicts pods and deletes images`, grow));
  else if (pct > KUBELET_GC.imageGcHighPercent)
    out.push(hostFinding(id, facts.host, 'warn', `${where}: ${what}; above ${KUBELET_GC.imageGcHighPercent}% kubelet's image GC deletes images that an air-gapped node cannot pull back`, `${grow}, or lower the images kept on nodes`));
  else out.push(hostFinding(id, facts.host, 'pass', `${where}: ${what}; below the ${KUBELET_GC.imageGcHighPercent}% image-GC threshold`));
  if (kubelet.mount !== images.mount && (kubelet.availKb / kubelet.sizeKb) * 100 < KUBELET_GC.nodefsEvictionPercent)
    out.push(hostFinding(id, facts.host, 'fail', `/var/lib/kubelet on ${kubelet.mount} has under ${KUBELET_GC.nodefsEvictionPercent}% free: kubelet evicts pods`, 'free space or grow the volume'));
  return out;
}

export const diskCheck: NodeCheck = { id: 'disk-headroom', title: 'disk headroom for the bundle’s images against kubelet GC thresholds', run: diskHeadroom };
