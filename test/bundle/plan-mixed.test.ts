// A lock for several OS releases (ferry resolve --os rocky-9.4 --os debian-12): one package plan per OS release,
// images/files/manifests once; GPU node kernels go to the OS they belong to; install's coverage takes a node of any.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BundleSpec } from '../../src/config/bundle-spec.ts';
import { Lock } from '../../src/config/lock.ts';
import { parseYaml } from '../../src/config/parse.ts';
import { osPackagePlans, planBundle, renderPlan } from '../../src/bundle/plan.ts';
import { planFromInput } from '../../src/bundle/build.ts';
import { gpuDriverSets } from '../../src/bundle/sources/gpu-packages.ts';
import { osNotCarried, siteCoverage } from '../../src/bundle/site-coverage.ts';
import { gpuKernelsByOs } from '../../src/gpu/kernel-release.ts';
import { buildSbom } from '../../src/bundle/sbom.ts';

const read = (p: string) => readFileSync(new URL(p, import.meta.url), 'utf8');
const rocky = parseYaml(read('./fixtures/lock-rocky9-h100.yaml'), 'lock-rocky9-h100.yaml', Lock);
const gpuCluster = parseYaml(read('../../bundles/gpu-cluster.yaml'), 'gpu-cluster.yaml', BundleSpec);
const debianOs = { os: { id: 'debian', version: '12', family: 'debian' as const, arch: 'amd64' }, kernel: '6.1.0', cgroup: 'v2' as const };
const mixed = Lock.parse({ ...rocky, stack: { ...rocky.stack, alsoOs: [debianOs] } });
const cpuMixed = Lock.parse({ ...mixed, gpu: null, stack: { ...mixed.stack, nvidiaDriver: null } });
const EL_KERNEL = '5.14.0-427.13.1.el9_4.x86_64';
const DEB_KERNEL = '6.1.0-37-amd64';

describe('planBundle for a lock of several OS releases', () => {
  it('plans the first OS as before and each other in alsoOs: its own sources, packages and release', () => {
    const p = planBundle(cpuMixed, gpuCluster, { knownOsVersions: { rocky: ['9.4', '9.6'], debian: ['12'] } });
    const plans = osPackagePlans(p);
    expect(plans.map((o) => `${o.os.id}-${o.os.version}`)).toEqual(['rocky-9.4', 'debian-12']);
    expect(p.rpm?.releasever).toBe('9.4');
    expect(p.vault).toEqual({ current: '9.6' });
    expect(p.rpm?.packages).toContain('kubeadm-1.33.13');
    const deb = p.alsoOs![0]!;
    expect(deb.rpm).toBeUndefined();
    expect(deb.vault).toBeUndefined();
    expect(deb.deb?.arch).toBe('amd64');
    expect(deb.deb?.packages).toEqual(expect.arrayContaining(['kubeadm=1.33.13*', 'containerd.io=2.0.8*', 'curl']));
    expect(deb.deb?.sources.map((s) => s.suite)).toContain('bookworm');
    // Images, files and manifests are planned once.
    expect(p.files.filter((f) => f.component === 'registry')).toHaveLength(1);
    const text = renderPlan(p);
    expect(text).toMatch(/^bundle gpu-cluster for rocky 9\.4 \+ debian 12 \(linux\/amd64\)/);
    expect(text).toMatch(/RPM repos of rocky 9\.4 for releasever 9\.4 x86_64 \(9\.4 is not the current minor, 9\.6 is/);
    expect(text).toMatch(/apt sources of debian 12 for amd64/);
    expect(text).toMatch(/packages of debian 12 \(and their dependency closure\)/);
  });

  it('a one-OS lock plans as it always did: no alsoOs, untitled sections', () => {
    const p = planBundle(rocky, gpuCluster, { knownOsVersions: ['9.4'] });
    expect(p.alsoOs).toBeUndefined();
    expect(renderPlan(p)).toMatch(/\nRPM repos for releasever 9\.4 x86_64/);
  });

  it('GPU sets per OS: each kernel to the OS it belongs to, planned for that OS', () => {
    const sources = { gpuDriverSets };
    const p = planFromInput({ lock: mixed, spec: { ...gpuCluster, kernels: [EL_KERNEL, DEB_KERNEL] }, sources, knownOsVersions: {} });
    expect(p.rpm?.gpu.map((k) => k.kernel)).toEqual([EL_KERNEL]);
    expect(p.rpm?.gpu[0]!.alternatives.flatMap((a) => a.packages).join(' ')).toMatch(/kernel-devel-5\.14\.0-427\.13\.1\.el9_4\.x86_64/);
    expect(p.alsoOs![0]!.deb?.gpu.map((k) => k.kernel)).toEqual([DEB_KERNEL]);
    expect(p.alsoOs![0]!.deb?.gpu[0]!.alternatives.flatMap((a) => a.packages).join(' ')).toMatch(/linux-headers-6\.1\.0-37-amd64/);
  });

  it.each([
    ['an EL and a Debian kernel', [EL_KERNEL, DEB_KERNEL], { 'rocky-9.4': [EL_KERNEL], 'debian-12': [DEB_KERNEL] }],
    ['GPU nodes on one OS only', [EL_KERNEL], { 'rocky-9.4': [EL_KERNEL], 'debian-12': [] }],
    ['an EL 8 kernel: none of them', ['4.18.0-553.el8_10.x86_64'], /4\.18\.0-553\.el8_10\.x86_64 belongs to none of the lock's OS releases \(.*EL 8 kernel.*; .*EL 8 kernel/],
    ['no kernel for a GPU lock', [], /must be built for the exact kernel of each GPU node/],
  ])('gpuKernelsByOs: %s', (_name, kernels, want) => {
    const oses = [mixed.stack.os, debianOs.os];
    const run = () => gpuKernelsByOs(mixed.stack, oses, kernels, 'kernels');
    if (want instanceof RegExp) expect(run).toThrow(want);
    else expect(run()).toEqual(want);
  });

  it('the SBOM names each package by its repository\'s OS', () => {
    const a = (path: string, name: string) => ({ kind: 'package' as const, path, size: 1, sha256: '0'.repeat(64), source: 'x', name, version: '1.0' });
    const sbom = buildSbom({ name: 'b', createdAt: '2026-12-07T00:00:00Z', osId: 'rocky', toolVersion: '0', artifacts: [a('packages/rocky-9.4/x86_64/k.rpm', 'k'), a('packages/debian-12/amd64/k.deb', 'k')] }) as { packages: { externalRefs?: { referenceLocator: string }[] }[] };
    expect(sbom.packages.flatMap((p) => p.externalRefs ?? []).map((r) => r.referenceLocator)).toEqual(['pkg:rpm/rocky/k@1.0', 'pkg:deb/debian/k@1.0']);
  });
});

describe('install coverage of a bundle of several OS releases', () => {
  const oses = [mixed.stack.os, debianOs.os];
  it.each([
    ['a Debian 12 node', { id: 'debian', versionId: '12' }, undefined],
    ['a Rocky 9.4 node', { id: 'rocky', versionId: '9.4' }, undefined],
    ['a Rocky 9.6 node (same major: the repository serves it, as for a one-OS bundle)', { id: 'rocky', versionId: '9.6' }, undefined],
    ['an Ubuntu node: the resolve that carries it too', { id: 'ubuntu', versionId: '24.04' }, /ferry resolve --os rocky-9\.4 --os debian-12 --os ubuntu-24\.04 \.\.\. --out ferry\.lock\.yaml`, then `ferry bundle build/],
  ])('osNotCarried: %s', (_name, os, fix) => {
    const problem = osNotCarried(oses, { name: 'n1', os: { ...os, family: 'x' } });
    if (!fix) expect(problem).toBeUndefined();
    else expect(problem?.fix).toMatch(fix);
  });

  it.each([
    ['Debian 12 worker of a --site bundle for rocky 9.4 + debian 12', { id: 'debian', versionId: '12', family: 'debian' }, []],
    ['an Ubuntu node: carry it too', { id: 'ubuntu', versionId: '24.04', family: 'debian' }, [/n1 runs ubuntu 24\.04, but the lock is for rocky 9\.4 \(nor debian 12\)/]],
  ])('siteCoverage: %s', (_name, os, want) => {
    const problems = siteCoverage({ oses, driver: false, gpuKernels: [], fromSite: true }, [{ name: 'n1', gpu: false, os, arch: 'x86_64', kernel: DEB_KERNEL }]);
    expect(problems.map((p) => p.message)).toEqual(want.map((w) => expect.stringMatching(w)));
    for (const p of problems) expect(p.fix).toMatch(/--os rocky-9\.4 --os debian-12 --os ubuntu-24\.04/);
  });
});
