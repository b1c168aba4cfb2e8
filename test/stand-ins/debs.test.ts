// The STAND-IN packages: reproducible .debs named and versioned like pkgs.k8s.io's, with the files the real kubelet
// package ships, and a bundle that carries them verifies and resolves them with apt.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Artifact } from '../../src/bundle/artifact.ts';
import { sealBundle } from '../../src/bundle/seal.ts';
import { indexFlatRepo, simulateDebInstall } from '../../src/bundle/sources/deb.ts';
import { verifyBundle } from '../../src/bundle/verify.ts';
import { hashFile } from '../../src/util/hash.ts';
import { tempDir } from '../bundle/support/make-bundle.ts';
import { buildStandInDebs } from './debs.ts';

let work: string;
let first: string[];

const sha = async (f: string) => createHash('sha256').update(await readFile(f)).digest('hex');

beforeAll(async () => {
  work = await tempDir('ferry-stand-in-debs-');
  first = await buildStandInDebs('1.33.1', join(work, 'a'));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('stand-in .debs', () => {
  it('are named like pkgs.k8s.io packages and say STAND-IN', async () => {
    expect(first.map((f) => f.split('/').pop())).toEqual([
      'kubeadm_1.33.1-1.1_amd64.deb', 'kubelet_1.33.1-1.1_amd64.deb', 'kubectl_1.33.1-1.1_amd64.deb',
    ]);
    for (const f of first) {
      const control = (await execa('dpkg-deb', ['-f', f])).stdout;
      expect(control).toMatch(/^Version: 1\.33\.1-1\.1$/m);
      expect(control).toMatch(/^Depends: python3, python3-yaml, openssl$/m);
      expect(control).toContain('STAND-IN');
    }
  });

  it('ship the kubelet unit and kubeadm drop-in where the real kubelet package does', async () => {
    const files = (await execa('dpkg-deb', ['-c', first[1]!])).stdout;
    expect(files).toContain('./usr/lib/systemd/system/kubelet.service\n');
    expect(files).toContain('./usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf');
    expect(files).toContain('./usr/bin/kubelet -> ../lib/ferry-stand-in/kubelet/kubelet');
    expect(files).toContain('./usr/lib/ferry-stand-in/kubelet/kube-apiserver');
  });

  it('are byte-for-byte the same when built again', async () => {
    const second = await buildStandInDebs('1.33.1', join(work, 'b'));
    for (let i = 0; i < first.length; i++) expect(await sha(second[i]!)).toBe(await sha(first[i]!));
  });

  it('go into a bundle that verifies and from which apt resolves kubeadm, kubelet and kubectl', async () => {
    const dir = join(work, 'bundle');
    const repoPath = 'packages/debian-12/amd64';
    await mkdir(join(dir, repoPath), { recursive: true });
    const names = ['kubeadm', 'kubelet', 'kubectl'];
    const packages: Artifact[] = [];
    for (const [i, name] of names.entries()) {
      await execa('cp', [first[i]!, join(dir, repoPath)]);
      packages.push({ kind: 'package', path: `${repoPath}/${name}_1.33.1-1.1_amd64.deb`, ...(await hashFile(first[i]!)), source: 'test', name, version: '1.33.1-1.1', arch: 'amd64' });
    }
    const metadata = await indexFlatRepo(join(dir, repoPath), repoPath, join(work, 'index'));
    const lockText = stringify({ apiVersion: 'ferry.dev/v1alpha1', kind: 'Lock', stack: { os: { id: 'debian', version: '12' } } });
    await sealBundle({ dir, name: 'stand-in-test', createdAt: new Date('2026-11-23T10:00:00Z'), platform: 'linux/amd64', osId: 'debian', lockText, artifacts: [...packages, ...metadata], toolVersion: '0.0.0-test' });
    const verdict = await verifyBundle(dir);
    expect(verdict.problems).toEqual([]);
    expect(verdict.ok).toBe(true);
    expect(verdict.manifest!.artifacts.filter((a) => a.kind === 'package').map((a) => a.name).sort()).toEqual(['kubeadm', 'kubectl', 'kubelet']);
    // What a node has before install: the stand-ins' dependencies (the lab base carries them).
    const status = ['python3', 'python3-yaml', 'openssl'].map((p) => `Package: ${p}\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n`).join('\n');
    await writeFile(join(work, 'status'), status);
    const sim = await simulateDebInstall({ repoDir: join(dir, repoPath), arch: 'amd64', packages: ['kubeadm=1.33.1-1.1', 'kubelet=1.33.1-1.1', 'kubectl=1.33.1-1.1'], status, workDir: join(work, 'apt') });
    expect(sim.installs.sort()).toEqual(['kubeadm', 'kubectl', 'kubelet']);
  });
});
