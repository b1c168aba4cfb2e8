import { describe, expect, it } from 'vitest';
import { CRITICAL, ociIndexFile, ociLayoutFile, REF_NAME, UPSTREAM_INDEX_DIGEST } from '../../src/bundle/sources/oci-layout.ts';

const d = (n: string) => `sha256:${n.repeat(64)}`;

describe('OCI layout files', () => {
  it('writes the image-layout version the OCI image spec (image-layout.md) fixes', () => {
    expect(JSON.parse(ociLayoutFile())).toEqual({ imageLayoutVersion: '1.0.0' });
  });

  it('lists images sorted by name, with full references and the upstream index digest only when there was one', () => {
    const m = { mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 10 };
    const text = ociIndexFile([
      { name: 'registry.k8s.io/pause:3.10', manifest: { ...m, digest: d('b') }, platform: { os: 'linux', architecture: 'amd64' }, indexDigest: d('c'), critical: true },
      { name: 'docker.io/library/nginx:1.27', manifest: { ...m, digest: d('a') } },
    ]);
    const index = JSON.parse(text);
    expect(index.schemaVersion).toBe(2);
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.manifests.map((x: { annotations: Record<string, string> }) => x.annotations[REF_NAME])).toEqual([
      'docker.io/library/nginx:1.27',
      'registry.k8s.io/pause:3.10',
    ]);
    expect(index.manifests[0].annotations[UPSTREAM_INDEX_DIGEST]).toBeUndefined();
    expect(index.manifests[0].annotations[CRITICAL]).toBeUndefined();
    expect(index.manifests[1].annotations[CRITICAL]).toBe('true');
    expect(index.manifests[1]).toMatchObject({ digest: d('b'), platform: { architecture: 'amd64' }, annotations: { [UPSTREAM_INDEX_DIGEST]: d('c') } });
  });
});
