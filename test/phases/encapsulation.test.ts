import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Recommendation } from '../../src/checks/recommend.ts';
import { Inventory } from '../../src/config/inventory.ts';
import { parseYaml } from '../../src/config/parse.ts';
import { UserError } from '../../src/errors.ts';
import { chooseEncapsulation, firewallEncapsulation } from '../../src/phases/encapsulation.ts';

// The example inventory the renderer tests use (test/render/fixtures/cluster.yaml), with network settings varied per row.
const base = parseYaml(readFileSync(new URL('../render/fixtures/cluster.yaml', import.meta.url), 'utf8'), 'cluster.yaml', Inventory);
const inv = (cni: Inventory['network']['cni'], encapsulation: Inventory['network']['encapsulation']): Inventory => ({
  ...base,
  network: { ...base.network, cni, encapsulation },
});

// Recommendations as doctor's recommend() words them (see test/checks/cluster-checks.test.ts) for a 1450-byte underlay.
const ipipOk: Recommendation = { encapsulation: 'ipip', ipipProbe: 'passed', encapsulationReason: 'protocol 4 passed on all 6 directions', iptablesBackend: 'Legacy', iptablesBackendReason: 'every node uses iptables-legacy', cniMtu: 1430 };
const ipipBlocked: Recommendation = { encapsulation: 'vxlan', ipipProbe: 'failed', encapsulationReason: 'protocol 4 did not pass on 2 direction(s): cp-1→w-1, cp-2→w-1', iptablesBackend: 'NFT', iptablesBackendReason: 'every node uses iptables-nft', cniMtu: 1400 };
const unproven: Recommendation = { ...ipipBlocked, ipipProbe: 'unproven', encapsulationReason: 'no node pair was probed, so IP-in-IP is unproven; VXLAN is the safe choice', cniMtu: undefined };

describe('chooseEncapsulation', () => {
  it.each([
    { name: 'auto + calico without doctor: VXLAN on 4789', cni: 'calico', enc: 'auto', rec: undefined, kind: 'vxlan', port: 4789, backend: 'NFT', mtu: undefined, reason: /no doctor recommendation/ },
    { name: 'auto + flannel without doctor: VXLAN on 8472', cni: 'flannel', enc: 'auto', rec: undefined, kind: 'vxlan', port: 8472, backend: 'NFT', mtu: undefined, reason: /safe choice/ },
    { name: 'auto + calico, protocol 4 passed: IP-in-IP', cni: 'calico', enc: 'auto', rec: ipipOk, kind: 'ipip', port: undefined, backend: 'Legacy', mtu: 1430, reason: /doctor recommends IP-in-IP: protocol 4 passed/ },
    { name: 'auto + calico, protocol 4 blocked: VXLAN with the VXLAN MTU', cni: 'calico', enc: 'auto', rec: ipipBlocked, kind: 'vxlan', port: 4789, backend: 'NFT', mtu: 1400, reason: /doctor recommends VXLAN: protocol 4 did not pass/ },
    { name: 'auto + calico, nothing probed: VXLAN', cni: 'calico', enc: 'auto', rec: unproven, kind: 'vxlan', port: 4789, backend: 'NFT', mtu: undefined, reason: /unproven/ },
    { name: 'auto + cilium, protocol 4 passed: still VXLAN on 8472', cni: 'cilium', enc: 'auto', rec: ipipOk, kind: 'vxlan', port: 8472, backend: 'Legacy', mtu: 1400, reason: /Cilium has no IP-in-IP mode/ },
    { name: 'forced vxlan wins over an IP-in-IP recommendation, MTU recomputed', cni: 'calico', enc: 'vxlan', rec: ipipOk, kind: 'vxlan', port: 4789, backend: 'Legacy', mtu: 1400, reason: /inventory says vxlan/ },
    { name: 'forced ipip without doctor', cni: 'calico', enc: 'ipip', rec: undefined, kind: 'ipip', port: undefined, backend: 'NFT', mtu: undefined, reason: /inventory says ipip/ },
    { name: 'forced ipip on flannel', cni: 'flannel', enc: 'ipip', rec: ipipOk, kind: 'ipip', port: undefined, backend: 'Legacy', mtu: 1430, reason: /inventory says ipip/ },
  ] as const)('$name', ({ cni, enc, rec, kind, port, backend, mtu, reason }) => {
    const got = chooseEncapsulation(inv(cni, enc), rec);
    expect(got).toMatchObject({ kind, iptablesBackend: backend });
    expect(got.port).toBe(port);
    expect(got.mtu).toBe(mtu);
    expect(got.reason).toMatch(reason);
    expect(got.warning).toBeUndefined();
  });

  it('warns when the inventory forces IP-in-IP although doctor found protocol 4 blocked', () => {
    const got = chooseEncapsulation(inv('calico', 'ipip'), ipipBlocked);
    expect(got).toMatchObject({ kind: 'ipip', mtu: 1430 });
    expect(got.warning).toContain('doctor found IP protocol 4 blocked (protocol 4 did not pass on 2 direction(s): cp-1→w-1, cp-2→w-1)');
  });

  it('does not warn for a forced IP-in-IP that doctor could not test', () => {
    expect(chooseEncapsulation(inv('calico', 'ipip'), unproven).warning).toBeUndefined();
  });

  it('refuses IP-in-IP for Cilium as bad input', () => {
    expect(() => chooseEncapsulation(inv('cilium', 'ipip'))).toThrow(UserError);
  });

  it('gives the firewall the protocol or the port', () => {
    expect(firewallEncapsulation(chooseEncapsulation(inv('calico', 'auto'), ipipOk))).toEqual({ kind: 'ipip' });
    expect(firewallEncapsulation(chooseEncapsulation(inv('flannel', 'auto')))).toEqual({ kind: 'vxlan', port: 8472 });
  });
});
