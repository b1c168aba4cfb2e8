// preflight's plan from tables of observations (the node's facts, read once per run, and the bundle's manifest for a
// GPU node): nothing to do, or a refusal before any node changes. Its observe reads gather.sh once and keeps it.
import { describe, expect, it } from 'vitest';
import type { BundleManifest } from '../../src/bundle/manifest.ts';
import { parseNodeFacts } from '../../src/facts/node.ts';
import { ReadOnlyHost } from '../../src/hosts/read-only.ts';
import { planPreflight, preflightPhase, type PreflightSeen } from '../../src/phases/preflight.ts';
import { gatherOutput, nodeGatherOutput } from '../facts/fixtures.ts';
import { FakeHost } from '../support/fake-host.ts';
import { fixture } from './fixtures.ts';
import { phaseContext } from './phase-context.ts';

const ARCH = 'NAME="Arch Linux"\nPRETTY_NAME="Arch Linux"\nID=arch\n';
const ORACLE = 'NAME="Oracle Linux Server"\nVERSION="9.4"\nID="ol"\nID_LIKE="fedora"\nVERSION_ID="9.4"\nPRETTY_NAME="Oracle Linux Server 9.4"\n';
const manifest = (gpuDrivers: BundleManifest['gpuDrivers']): BundleManifest => ({
  apiVersion: 'ferry.dev/v1alpha1', kind: 'BundleManifest', name: 'b', createdAt: '2026-12-07T00:00:00Z', platform: 'linux/amd64', documents: [], artifacts: [], ...(gpuDrivers ? { gpuDrivers } : {}),
});

/** A bundle built with --site for rocky nodes of release `release` (full closure). */
const sited = (release: string): BundleManifest => ({
  ...manifest([{ kernel: '4.18.0-372.19.1.el8_6.x86_64', kind: 'precompiled', package: 'kmod-nvidia' }]),
  site: { cluster: 'c', generatedAt: '2026-12-07T00:00:00Z', os: { id: 'rocky', version: release, family: 'el' }, nodes: [], kernels: [], osVersions: [release], closure: 'full' },
});

describe('preflight plan', () => {
  // phaseContext('el') locks rocky 8.6 with an NVIDIA driver; the nodes' kernel is 4.18.0-372.19.1.el8_6.x86_64.
  const K = '4.18.0-372.19.1.el8_6.x86_64';
  it.each<{ name: string; host: string; osRelease: string; manifest?: BundleManifest; refusal?: RegExp }>([
    { name: 'the lock\'s OS: nothing to do', host: 'cp-1', osRelease: fixture('rocky86-os-release') },
    { name: 'another OS than the lock\'s: refused', host: 'cp-1', osRelease: fixture('debian12-os-release'), refusal: /cp-1 runs Debian GNU\/Linux 12 \(bookworm\), but the lock was resolved for rocky 8\.6/ },
    { name: 'an OS ferry does not install on: refused by name', host: 'cp-1', osRelease: ARCH, refusal: /cp-1: Arch Linux \(ID=arch\) is not an OS ferry installs on/ },
    { name: 'Oracle Linux (EL family, not in the lock): refused by the lock check', host: 'cp-1', osRelease: ORACLE, refusal: /cp-1 runs Oracle Linux Server 9\.4, but the lock was resolved for rocky 8\.6/ },
    { name: 'a GPU node whose kernel the bundle serves: nothing to do', host: 'gpu-1', osRelease: fixture('rocky86-os-release'), manifest: manifest([{ kernel: K, kind: 'precompiled', package: 'kmod-nvidia' }]) },
    { name: 'a bundle built for the site (--site) that covers the node: nothing to do', host: 'cp-1', osRelease: fixture('rocky86-os-release'), manifest: sited('8.6') },
    // Found on EL lab nodes (test/install/el-gpu.lab.test.ts): a control plane on another kernel than the GPU nodes'.
    { name: 'a node without role gpu whose kernel the bundle has no driver for: nothing to do', host: 'cp-1', osRelease: fixture('rocky86-os-release'), manifest: manifest([{ kernel: '4.18.0-1.el8.x86_64', kind: 'dkms', package: 'kernel-devel' }]) },
    { name: 'a GPU node whose kernel the bundle does not serve: refused with the build fix', host: 'gpu-1', osRelease: fixture('rocky86-os-release'), manifest: manifest([{ kernel: '4.18.0-1.el8.x86_64', kind: 'dkms', package: 'kernel-devel' }]), refusal: new RegExp(`gpu-1 runs kernel ${K.replaceAll('.', '\\.')}, .*--kernel ${K.replaceAll('.', '\\.')}`) },
  ])('$name', ({ host, osRelease, manifest: m, refusal }) => {
    const ctx = phaseContext('el');
    const spec = ctx.inventory.hosts.find((h) => h.name === host)!;
    const seen: PreflightSeen = { facts: parseNodeFacts(host, nodeGatherOutput(osRelease, spec.address), spec.address), ...(m ? { manifest: m } : {}) };
    const plan = () => planPreflight(seen, { spec, ctx });
    if (refusal) expect(plan).toThrow(refusal);
    else expect(plan()).toEqual([]);
  });
});

describe('preflight with a lock of several OS releases (a mixed cluster)', () => {
  const UBUNTU = 'NAME="Ubuntu"\nID=ubuntu\nVERSION_ID="24.04"\nPRETTY_NAME="Ubuntu 24.04.1 LTS"\n';
  it.each([
    { name: 'a Debian worker of a rocky 8.6 + debian 12 lock: nothing to do', osRelease: fixture('debian12-os-release') },
    { name: 'an EL node of it: nothing to do', osRelease: fixture('rocky86-os-release') },
    { name: 'an Ubuntu node: refused with the resolve that carries it too', osRelease: UBUNTU, refusal: /cp-1 runs Ubuntu 24\.04\.1 LTS, but the lock was resolved for rocky 8\.6 and debian 12: .*`ferry resolve --os rocky-8\.6 --os debian-12 --os ubuntu-24\.04 \.\.\. --out ferry\.lock\.yaml`, then `ferry bundle build/ },
  ])('$name', ({ osRelease, refusal }) => {
    const ctx = phaseContext('el');
    ctx.lock!.stack.alsoOs = [{ os: { id: 'debian', version: '12', family: 'debian', arch: 'amd64' }, kernel: '6.1.0', cgroup: 'v2' }];
    const spec = ctx.inventory.hosts.find((h) => h.name === 'cp-1')!;
    const seen: PreflightSeen = { facts: parseNodeFacts('cp-1', nodeGatherOutput(osRelease, spec.address), spec.address) };
    const plan = () => planPreflight(seen, { spec, ctx });
    if (refusal) expect(plan).toThrow(refusal);
    else expect(plan()).toEqual([]);
  });
});

describe('preflight with a bundle built for the site (--site)', () => {
  it('refuses a node of another EL minor than the bundle resolved its packages for, with the fix', () => {
    const ctx = phaseContext('el');
    ctx.lock!.stack.os = { ...ctx.lock!.stack.os, version: '8.8' };
    const spec = ctx.inventory.hosts.find((h) => h.name === 'cp-1')!;
    const seen: PreflightSeen = { facts: parseNodeFacts('cp-1', nodeGatherOutput(fixture('rocky86-os-release'), spec.address), spec.address), manifest: sited('8.8') };
    expect(() => planPreflight(seen, { spec, ctx })).toThrow(/^the bundle does not cover this node: cp-1 runs rocky 8\.6, but the lock is for rocky 8\.8.*ferry doctor -i cluster\.yaml --site-out site\.json/);
  });
});

describe('preflight observe', () => {
  it('reads gather.sh once per node per run, read-only, and keeps it in the run state', async () => {
    const ctx = phaseContext('el', { hosts: ['cp-1'] });
    ctx.state.facts.clear();
    const spec = ctx.inventory.hosts[0]!;
    const host = new FakeHost('cp-1', [{ command: 'sh -s', stdout: nodeGatherOutput(fixture('rocky86-os-release'), spec.address) + gatherOutput({ 'ssh-client': '10.20.0.1 5555 22' }), readOnly: true }]);
    const phase = preflightPhase();
    const target = { spec, host: new ReadOnlyHost(host), admin: new ReadOnlyHost(ctx.admin) };
    const first = await phase.observe(target, ctx, {});
    const again = await phase.observe(target, ctx, {});
    expect(again.facts).toBe(first.facts);
    expect(ctx.state.facts.get('cp-1')).toBe(first.facts);
    expect(first.facts).toMatchObject({ interface: 'eth0', adminAddress: '10.20.0.1', os: { family: 'el' } });
    expect(host.calls.map((c) => c.command)).toEqual(['sh -s']);
  });
});
