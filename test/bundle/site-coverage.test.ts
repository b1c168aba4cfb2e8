import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { Lock } from '../../src/config/lock.ts';
import { siteBuild } from '../../src/bundle/site-build.ts';
import { coverageNode, manifestCoverage, siteCoverage, type CoverageNode } from '../../src/bundle/site-coverage.ts';
import { fixtureFacts } from '../facts/fixtures.ts';
import { KERNEL_94, KERNEL_94_ERRATA, KERNEL_95, ROCKY94_BASE, siteOf } from '../fixtures/site/rocky94-nodes.ts';

const rocky = (parse(readFileSync(new URL('fixtures/lock-rocky9-h100.yaml', import.meta.url), 'utf8')) as Lock).stack;

/** The coverage of a bundle built with --site from a 9.4 site: cp-1 and gpu-1 (kernel 427.13.1), installed closure. */
const site = siteOf([{ name: 'cp-1', roles: ['control-plane'] }, { name: 'gpu-1', roles: ['worker', 'gpu'], gpus: 8 }]);
const built = siteBuild(rocky, site, { file: 'site.json', kernels: [], closure: 'installed' });
const coverage = manifestCoverage({ site: built.record, gpuDrivers: [{ kernel: KERNEL_94, kind: 'dkms', package: `kernel-devel-${KERNEL_94}` }] }, rocky);

const node = (o: Partial<CoverageNode> & { name: string }): CoverageNode => ({
  gpu: false, os: { id: 'rocky', versionId: '9.4', family: 'el' }, arch: 'x86_64', kernel: KERNEL_94, packages: ROCKY94_BASE, ...o,
});
const extra = { name: 'vim-enhanced', version: '2:8.2.2637-20.el9_1', arch: 'x86_64' };

describe('siteCoverage: which nodes a bundle does not cover, and what fixes it', () => {
  it.each<[string, CoverageNode, { kind: string; message: RegExp; fix: RegExp }[]]>([
    ['a node doctor read for the bundle', node({ name: 'gpu-1', gpu: true }), []],
    ['a new CPU node on another 9.4 kernel with more packages', node({ name: 'w9', kernel: KERNEL_94_ERRATA, packages: [...ROCKY94_BASE, extra] }), []],
    ['a GPU node on a kernel the bundle has no driver for', node({ name: 'gpu-2', gpu: true, kernel: KERNEL_94_ERRATA }),
      [{ kind: 'kernel', message: /gpu-2 runs kernel 5\.14\.0-427\.42\.1\.el9_4\.x86_64, and the bundle carries the NVIDIA driver only for 5\.14\.0-427\.13\.1/, fix: /ferry doctor -i cluster\.yaml --site-out site\.json.*ferry bundle build .*--site site\.json/ }]],
    ['a node updated to 9.5', node({ name: 'gpu-3', gpu: true, os: { id: 'rocky', versionId: '9.5', family: 'el' }, kernel: KERNEL_95 }),
      [{ kind: 'os', message: /gpu-3 runs rocky 9\.5, but the lock is for rocky 9\.4/, fix: /ferry resolve --os rocky-9\.5/ }]],
    ['an arm64 node', node({ name: 'arm1', arch: 'aarch64' }), [{ kind: 'arch', message: /arm1 is aarch64, but the lock is for amd64/, fix: /ferry resolve/ }]],
    ['a node without a package the bundle left out', node({ name: 'w2', packages: ROCKY94_BASE.filter((p) => p.name !== 'iptables-nft') }),
      [{ kind: 'packages', message: /w2 lacks 1 of the packages .*: iptables-nft 1\.8\.10-2\.el9 \(x86_64\) is not installed/, fix: /--site site\.json.*--closure full/ }]],
    ['a node with another version of one', node({ name: 'w3', packages: ROCKY94_BASE.map((p) => (p.name === 'bash' ? { ...p, version: '5.1.8-6.el9_1' } : p)) }),
      [{ kind: 'packages', message: /w3 lacks 1 .*: bash is 5\.1\.8-6\.el9_1, the bundle assumed 5\.1\.8-9\.el9/, fix: /ferry doctor/ }]],
    ['a node whose packages were not read', node({ name: 'w4', packages: undefined }),
      [{ kind: 'packages', message: /w4: the bundle leaves out 5 packages .* were not read/, fix: /packages/ }]],
  ])('%s', (_n, n, want) => {
    const problems = siteCoverage(coverage, [n]);
    expect(problems.map((p) => p.kind)).toEqual(want.map((w) => w.kind));
    problems.forEach((p, i) => {
      expect(p.node).toBe(n.name);
      expect(p.message).toMatch(want[i]!.message);
      expect(p.fix).toMatch(want[i]!.fix);
    });
  });

  it('lists only the first five missing packages and counts the rest', () => {
    const [p] = siteCoverage({ ...coverage, installed: Array.from({ length: 8 }, (_x, i) => ({ name: `p${i}`, version: '1', arch: 'x86_64' })) }, [node({ name: 'w5', packages: [] })]);
    expect(p!.message).toMatch(/lacks 8 .*p4 1 \(x86_64\) is not installed; and 3 more$/);
  });

  it('judges a bundle built without --site by its recorded GPU kernels, with no package check', () => {
    const plain = manifestCoverage({ gpuDrivers: [{ kernel: KERNEL_94, kind: 'precompiled', package: 'kmod-nvidia-580.126.18-5.14.0-427.13.1' }] }, rocky);
    expect(plain).toMatchObject({ fromSite: false, gpuKernels: [KERNEL_94] });
    expect(plain.installed).toBeUndefined();
    expect(siteCoverage(plain, [node({ name: 'w1', packages: undefined }), node({ name: 'g1', gpu: true })])).toEqual([]);
    expect(siteCoverage(plain, [node({ name: 'g2', gpu: true, kernel: KERNEL_94_ERRATA })]).map((p) => p.kind)).toEqual(['kernel']);
  });

  it('reports every node at once, one problem per gap', () => {
    const problems = siteCoverage(coverage, [node({ name: 'a', gpu: true, kernel: KERNEL_94_ERRATA, packages: [] }), node({ name: 'b' }), node({ name: 'c', os: { id: 'rocky', versionId: '9.5', family: 'el' } })]);
    expect(problems.map((p) => `${p.node}:${p.kind}`)).toEqual(['a:kernel', 'a:packages', 'c:os']);
  });

  it("takes a node's facts as doctor gathers them (real Rocky 8.6 GPU facts: another major)", () => {
    const n = coverageNode('gpu-8', ['worker', 'gpu'], fixtureFacts('rocky8-gpu-reconstructed'));
    expect(n).toMatchObject({ name: 'gpu-8', gpu: true, os: { id: 'rocky', versionId: '8.6' }, kernel: '4.18.0-372.19.1.el8_6.x86_64' });
    expect(n.packages).toBeUndefined();
    expect(siteCoverage(coverage, [n]).map((p) => p.kind)).toEqual(['os']);
  });
});
