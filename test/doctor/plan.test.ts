import { describe, expect, it } from 'vitest';
import type { Inventory } from '../../src/config/inventory.ts';
import type { Lock } from '../../src/config/lock.ts';
import { DEFAULT_KUBERNETES_VERSION, planFrom } from '../../src/doctor/plan.ts';

const inventory = {
  network: { controlPlaneEndpoint: '10.0.0.100:8443', podCidr: '10.32.0.0/16', serviceCidr: '10.96.0.0/12', cni: 'flannel', encapsulation: 'vxlan', loadBalancer: 'vip' },
  kubernetes: { version: 'v1.32' },
} as unknown as Inventory;
const lock = { stack: { kubernetes: '1.34.2', cni: { name: 'calico', version: '3.30.3' }, nvidiaDriver: { branch: 'R580', version: '580.95.05', kernelModule: 'open' } } } as unknown as Lock;

describe('planFrom', () => {
  it.each([
    ['nothing', undefined, undefined, DEFAULT_KUBERNETES_VERSION, 'default'],
    ['the inventory', inventory, undefined, '1.32', 'inventory'],
    ['a lock (it wins over the inventory)', inventory, lock, '1.34.2', 'lock'],
  ] as const)('takes the Kubernetes version from %s', (_, inv, lk, version, source) => {
    expect(planFrom(inv, lk, undefined)).toMatchObject({ kubernetesVersion: version, kubernetesVersionSource: source });
  });
  it('takes CNI and driver from the lock, network from the inventory', () => {
    expect(planFrom(inventory, lock, 123)).toMatchObject({ cni: 'calico', nvidiaDriver: '580.95.05', encapsulation: 'vxlan', podCidr: '10.32.0.0/16', controlPlaneEndpoint: '10.0.0.100:8443', imageBytes: 123, kubeletCgroupDriver: 'systemd' });
  });
});
