// Test support: a small but real bundle (random file contents, real manifest, SHA256SUMS, SBOM and signature),
// made through the same sealBundle() that `ferry bundle build` uses.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Artifact } from '../../../src/bundle/artifact.ts';
import { BundleLayout } from '../../../src/bundle/layout.ts';
import { sealBundle } from '../../../src/bundle/seal.ts';
import { generateKeyPair, parsePrivateKey, parsePublicKey } from '../../../src/bundle/sign.ts';
import { hashBytes } from '../../../src/util/hash.ts';

export interface FixtureFile {
  kind: Artifact['kind'];
  path: string;
  size: number;
  name?: string;
  version?: string;
  release?: string;
  arch?: string;
  digest?: string;
}

/** A mix of every artifact kind, small enough for unit tests. */
export const FIXTURE_FILES: FixtureFile[] = [
  { kind: 'package', path: 'packages/rocky-9.4/x86_64/containerd.io-1.7.27-3.1.el9.x86_64.rpm', size: 40_000, name: 'containerd.io', version: '1.7.27', release: '3.1.el9', arch: 'x86_64' },
  { kind: 'repo-metadata', path: 'packages/rocky-9.4/x86_64/repodata/repomd.xml', size: 3_000 },
  { kind: 'image-blob', path: BundleLayout.imageBlob('a'.repeat(64)), size: 70_000 },
  { kind: 'image-index', path: BundleLayout.imageIndex, size: 500, name: 'registry.k8s.io/pause:3.10', digest: `sha256:${'b'.repeat(64)}` },
  { kind: 'file', path: BundleLayout.file('kubernetes', '1.33.1', 'kubeadm'), size: 90_000, name: 'kubeadm', version: '1.33.1' },
  { kind: 'manifest', path: 'manifests/calico/3.30.2/calico.yaml', size: 0 },
];

export const LOCK_TEXT = '# test lock (not a real stack)\napiVersion: ferry.dev/v1alpha1\nkind: Lock\n';

export async function tempDir(prefix = 'ferry-bundle-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Writes random files and seals them; returns the bundle dir, its artifacts and the key pair used to sign. */
export async function makeBundle(options: { dir?: string; files?: FixtureFile[]; sign?: boolean } = {}) {
  const dir = options.dir ?? (await tempDir());
  const keys = generateKeyPair();
  const artifacts: Artifact[] = [];
  for (const f of options.files ?? FIXTURE_FILES) {
    const bytes = randomBytes(f.size);
    await mkdir(dirname(join(dir, f.path)), { recursive: true });
    await writeFile(join(dir, f.path), bytes);
    const { path, kind, size: _size, ...ids } = f;
    artifacts.push({ kind, path, ...hashBytes(bytes), source: `test://random/${path}`, ...ids });
  }
  const sealed = await sealBundle({
    dir,
    name: 'test-bundle',
    createdAt: new Date('2026-11-23T10:00:00Z'),
    platform: 'linux/amd64',
    osId: 'rocky',
    lockText: LOCK_TEXT,
    artifacts,
    signing: options.sign === false ? undefined : { privateKey: parsePrivateKey(keys.privatePem, 'test.key'), publicPem: keys.publicPem },
    toolVersion: '0.1.0',
  });
  return { dir, artifacts, keys, publicKey: parsePublicKey(keys.publicPem, 'test.pub'), ...sealed };
}
