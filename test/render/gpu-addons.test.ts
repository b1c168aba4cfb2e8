// The GPU add-ons manifest: RuntimeClass nvidia and the device plugin DaemonSet from the local registry, on
// labelled GPU nodes only, with the lock's plugin version (matrices/nvidia.yaml: nvcr.io/nvidia/k8s-device-plugin).
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { gpuAddonObjects, renderGpuAddons } from '../../src/render/gpu-addons.ts';

const images = [
  { ref: 'registry.k8s.io/pause:3.10', component: 'kubernetes' },
  { ref: 'nvcr.io/nvidia/k8s-device-plugin:v0.18.2', component: 'nvidia-device-plugin' },
];

describe('renderGpuAddons', () => {
  it('renders the RuntimeClass and a DaemonSet pinned to GPU nodes, runtime nvidia, image from the local registry', () => {
    const file = renderGpuAddons({ images, registry: 'registry.ferry.internal:5000' });
    expect(file.path).toBe('/etc/ferry/gpu-addons.yaml');
    const docs = parseAllDocuments(file.content).map((d) => d.toJS() as Record<string, any>);
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual(['RuntimeClass/nvidia', 'DaemonSet/nvidia-device-plugin-daemonset']);
    expect(docs[0]).toEqual({ apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name: 'nvidia' }, handler: 'nvidia' });
    const pod = docs[1]!.spec.template.spec;
    expect(pod.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
    expect(pod.runtimeClassName).toBe('nvidia');
    expect(pod.containers[0].image).toBe('registry.ferry.internal:5000/nvcr.io/nvidia/k8s-device-plugin:v0.18.2');
    expect(docs[1]!.spec.selector.matchLabels).toEqual(docs[1]!.spec.template.metadata.labels);
  });

  it('refuses a lock without the device plugin image', () => {
    expect(() => gpuAddonObjects({ images: images.slice(0, 1), registry: 'r:5000' })).toThrow(/no NVIDIA device plugin image/);
  });
});
