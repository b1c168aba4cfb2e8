// Disk headroom: after the bundle's images are loaded, image GC must not start and eviction must not fire.
import type { Facts } from '../facts/types.ts';
import { hostFinding, type Finding, type NodeCheck, type NodeContext } from './types.ts';

/** kubelet defaults: imageGCHighThresholdPercent 85, imageGCLowThresholdPercent 80; evictionHard imagefs.available 15%, nodefs.available 10%. */
export const KUBELET_GC = { imageGcHighPercent: 85, imageGcLowPercent: 80, imagefsEvictionPercent: 15, nodefsEvictionPercent: 10 } as const;

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
  if (pct >= KUBELET_GC.imageGcHighPercent || 100 - pct < KUBELET_GC.imagefsEvictionPercent)
    out.push(hostFinding(id, facts.host, 'fail', `${where}: ${what}; from ${KUBELET_GC.imageGcHighPercent}% used kubelet's image GC deletes images an air-gapped node cannot pull back, and under ${KUBELET_GC.imagefsEvictionPercent}% free it evicts pods`, grow));
  else if (pct > KUBELET_GC.imageGcLowPercent)
    out.push(hostFinding(id, facts.host, 'warn', `${where}: ${what}; above the ${KUBELET_GC.imageGcLowPercent}% image-GC low mark, a little growth (logs, emptyDir) starts image GC`, `${grow}, or carry fewer images to this node`));
  else out.push(hostFinding(id, facts.host, 'pass', `${where}: ${what}; below the ${KUBELET_GC.imageGcLowPercent}% image-GC low mark`));
  if (kubelet.mount !== images.mount && (kubelet.availKb / kubelet.sizeKb) * 100 < KUBELET_GC.nodefsEvictionPercent)
    out.push(hostFinding(id, facts.host, 'fail', `/var/lib/kubelet on ${kubelet.mount} has under ${KUBELET_GC.nodefsEvictionPercent}% free: kubelet evicts pods`, 'free space or grow the volume'));
  return out;
}

/** The disk-headroom check. */
export const diskCheck: NodeCheck = { id: 'disk-headroom', title: 'disk headroom for the bundle’s images against kubelet GC thresholds', run: diskHeadroom };
