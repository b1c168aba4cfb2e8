import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { rewriteManifestImages } from '../../src/bundle/rewrite.ts';

describe('rewriteManifestImages', () => {
  it('points the NVIDIA device plugin (upstream v0.17.1 manifest) at the local registry and lists its image', () => {
    const text = readFileSync(new URL('./fixtures/nvidia-device-plugin-v0.17.1.yml', import.meta.url), 'utf8');
    const r = rewriteManifestImages(text, 'registry.ferry.internal:5000');
    expect(r.images).toEqual(['nvcr.io/nvidia/k8s-device-plugin:v0.17.1']);
    expect(r.text).toContain('      - image: registry.ferry.internal:5000/nvcr.io/nvidia/k8s-device-plugin:v0.17.1\n');
    expect(r.text.split('\n').length).toBe(text.split('\n').length);
    expect(rewriteManifestImages(r.text, 'registry.ferry.internal:5000').text).toBe(r.text);
  });

  it.each([
    ['  image: "docker.io/calico/node:v3.30.2" # pinned', '  image: "reg:5000/docker.io/calico/node:v3.30.2" # pinned'],
    ["    - image: 'busybox'", "    - image: 'reg:5000/docker.io/library/busybox:latest'"],
    ['  image: {{ .Values.image }}', '  image: {{ .Values.image }}'],
    ['  imagePullPolicy: IfNotPresent', '  imagePullPolicy: IfNotPresent'],
  ])('rewrites %j', (line, want) => expect(rewriteManifestImages(line, 'reg:5000').text).toBe(want));
});
