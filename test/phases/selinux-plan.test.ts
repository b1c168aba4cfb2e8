// planSelinux: the inventory's `selinux:` policy against a node's snapshot. This machine's kernel has no SELinux, so
// the EL states are fixtures: getenforce prints Enforcing / Permissive / Disabled (getenforce(8)); the config file is
// the one selinux-policy installs on EL8 (test/phases/fixtures/README.md).
import { describe, expect, it } from 'vitest';
import { CONTAINER_SELINUX, parseSnapshot, planSelinux } from '../../src/phases/os-prepare-plan.ts';
import { parseYaml } from '../../src/config/parse.ts';
import { Inventory, selinuxPolicyOf } from '../../src/config/inventory.ts';
import { fixture } from './fixtures.ts';

const ENFORCING_CONFIG = fixture('el8-selinux-config');
const PERMISSIVE_CONFIG = ENFORCING_CONFIG.replace('SELINUX=enforcing', 'SELINUX=permissive');
const snapshot = (getenforce: string, config: string) =>
  parseSnapshot(['swaps', 'fstab', 'modules', 'sysctl'].map((k) => `==ferry:${k}==\n`).join('') + `==ferry:selinux==\n${getenforce}\n==ferry:selinux-config==\n${config}==ferry:nft==\nabsent\n==ferry:unit==\n`);

describe('planSelinux: what os-prepare does about SELinux', () => {
  it.each<[string, 'permissive' | 'enforcing' | 'leave', string, string, { setenforce?: '0'; config?: boolean; packages: string[]; warning?: RegExp }]>([
    ['permissive, node enforcing: switched now and in the config, and said', 'permissive', 'Enforcing', ENFORCING_CONFIG, { setenforce: '0', config: true, packages: [], warning: /cp-1: SELinux was enforcing and is set to permissive now \(setenforce 0\) and in \/etc\/selinux\/config.*selinux: enforcing/ }],
    ['permissive, node permissive but enforcing at the next boot: config only', 'permissive', 'Permissive', ENFORCING_CONFIG, { config: true, packages: [], warning: /set to permissive in \/etc\/selinux\/config/ }],
    ['permissive, node already permissive: nothing', 'permissive', 'Permissive', PERMISSIVE_CONFIG, { packages: [] }],
    ['permissive, SELinux disabled: nothing', 'permissive', 'Disabled', ENFORCING_CONFIG.replace('SELINUX=enforcing', 'SELINUX=disabled'), { packages: [] }],
    ['permissive, no SELinux (Debian): nothing', 'permissive', 'absent', '', { packages: [] }],
    ['enforcing, node enforcing: kept, container-selinux from the bundle', 'enforcing', 'Enforcing', ENFORCING_CONFIG, { packages: [CONTAINER_SELINUX] }],
    ['enforcing, node permissive: left as it is, container-selinux for the next boot', 'enforcing', 'Permissive', ENFORCING_CONFIG, { packages: [CONTAINER_SELINUX] }],
    ['enforcing, no SELinux: nothing', 'enforcing', 'absent', '', { packages: [] }],
    ['leave, node enforcing: nothing changed, a warning', 'leave', 'Enforcing', ENFORCING_CONFIG, { packages: [], warning: /cp-1: SELinux is enforcing and the inventory says selinux: leave, so ferry changed nothing; containers need container-selinux/ }],
    ['leave, enforcing from the next boot: a warning', 'leave', 'Permissive', ENFORCING_CONFIG, { packages: [], warning: /enforcing from the next boot/ }],
    ['leave, permissive: nothing', 'leave', 'Permissive', PERMISSIVE_CONFIG, { packages: [] }],
  ])('%s', (_n, policy, getenforce, config, want) => {
    const plan = planSelinux(policy, snapshot(getenforce, config), 'cp-1');
    expect(plan.setenforce).toBe(want.setenforce);
    expect(plan.packages).toEqual(want.packages);
    if (want.config) {
      expect(plan.config).toMatch(/^SELINUX=permissive$/m);
      expect(plan.config).toMatch(/^SELINUXTYPE=targeted$/m);
    } else expect(plan.config).toBeUndefined();
    if (want.warning) expect(plan.warning).toMatch(want.warning);
    else expect(plan.warning).toBeUndefined();
  });

  it('takes the policy per host over the cluster, default permissive', () => {
    const doc = (extra: string) =>
      parseYaml(`apiVersion: ferry.dev/v1alpha1\nkind: Cluster\nname: c\nnetwork: { controlPlaneEndpoint: "10.0.0.10:8443" }\n${extra}hosts:\n  - { name: cp-1, address: 10.0.0.11, roles: [control-plane] }\n  - { name: gpu-1, address: 10.0.0.21, roles: [worker, gpu], selinux: leave }\n`, 'cluster.yaml', Inventory);
    const plain = doc('');
    expect([selinuxPolicyOf(plain, 'cp-1'), selinuxPolicyOf(plain, 'gpu-1')]).toEqual(['permissive', 'leave']);
    const kept = doc('selinux: enforcing\n');
    expect([selinuxPolicyOf(kept, 'cp-1'), selinuxPolicyOf(kept, 'gpu-1')]).toEqual(['enforcing', 'leave']);
    expect(() => doc('selinux: disabled\n')).toThrow(/selinux/);
  });
});
