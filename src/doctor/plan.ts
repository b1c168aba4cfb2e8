// The plan doctor judges against, from the inventory and (when given) the lock: pure, so every verdict is reproducible.
import type { Inventory } from '../config/inventory.ts';
import type { Lock } from '../config/lock.ts';
import type { Plan } from '../checks/types.ts';

/** Kubernetes version doctor assumes when neither the inventory nor a lock names one. */
export const DEFAULT_KUBERNETES_VERSION = '1.33';

/** Plan for `doctor -i` (inventory, maybe lock) or `doctor --local` (no inventory: defaults). */
export function planFrom(inventory: Inventory | undefined, lock: Lock | undefined, imageBytes: number | undefined): Plan {
  const net = inventory?.network;
  const fromLock = lock?.stack.kubernetes;
  const fromInventory = inventory?.kubernetes.version;
  return {
    kubernetesVersion: (fromLock ?? fromInventory ?? DEFAULT_KUBERNETES_VERSION).replace(/^v/, ''),
    kubernetesVersionSource: fromLock ? 'lock' : fromInventory ? 'inventory' : 'default',
    cni: lock?.stack.cni.name ?? net?.cni ?? 'calico',
    encapsulation: net?.encapsulation ?? 'auto',
    podCidr: net?.podCidr ?? '10.244.0.0/16',
    serviceCidr: net?.serviceCidr ?? '10.96.0.0/12',
    controlPlaneEndpoint: net?.controlPlaneEndpoint ?? 'localhost:6443',
    kubeletCgroupDriver: 'systemd',
    imageBytes,
    nvidiaDriver: lock?.stack.nvidiaDriver?.version,
  };
}
