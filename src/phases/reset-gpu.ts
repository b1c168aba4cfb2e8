// Undoing the GPU phases: the driver packages gpu-driver added (toolkit included), nouveau's blacklist (with the
// initramfs rebuilt so nouveau may load again), nvidia-persistenced stopped; the add-ons manifest file.
import { sh } from '../hosts/shell.ts';
import { NOUVEAU_BLACKLIST_PATH } from '../gpu/driver-plan.ts';
import { GPU_ADDONS_PATH } from '../render/gpu-addons.ts';
import { gpuHosts, PERSISTENCED_UNIT } from './gpu-driver.ts';
import { firstControlPlane } from './kube/cluster.ts';
import { resetPhase } from './reset.ts';
import { exec } from './step.ts';

export const resetGpuDriverPhase = resetPhase({
  id: 'reset-gpu-driver',
  title: 'remove the NVIDIA driver, container toolkit and nouveau blacklist',
  targets: gpuHosts,
  units: [PERSISTENCED_UNIT],
  packagesOf: 'gpu-driver',
  paths: [NOUVEAU_BLACKLIST_PATH],
  after: () => [exec(sh`if command -v update-initramfs >/dev/null; then update-initramfs -u; elif command -v dracut >/dev/null; then dracut --force; fi`, { timeoutMs: 600_000 })],
});

export const resetGpuAddonsPhase = resetPhase({
  id: 'reset-gpu-addons',
  title: 'remove the GPU add-ons manifest file',
  targets: (ctx) => (gpuHosts(ctx).length > 0 ? [firstControlPlane(ctx.inventory)] : []),
  paths: [GPU_ADDONS_PATH],
});
