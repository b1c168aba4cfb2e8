import { describe, expect, it } from 'vitest';
import { kubeletConfiguration, type KubeletInput } from '../../src/render/kubelet.ts';
import { UserError } from '../../src/errors.ts';
import { KubeletConfiguration } from './kube-api.ts';

const base: KubeletInput = { kubernetesVersion: '1.33.4', cgroup: 'v2', cri: 'containerd' };

const rows: { name: string; input: KubeletInput; expected: Record<string, unknown> }[] = [
  { name: 'defaults on cgroup v2', input: base, expected: { failCgroupV1: true, imageGCHighThresholdPercent: 80, imageGCLowThresholdPercent: 70 } },
  { name: 'cgroup v1 on 1.35 must opt out of the refusal', input: { ...base, kubernetesVersion: '1.35.0', cgroup: 'v1' }, expected: { failCgroupV1: false } },
  {
    name: 'custom thresholds with a bigger imagefs reserve',
    input: { ...base, imageGC: { highThresholdPercent: 70, lowThresholdPercent: 55 }, imagefsAvailablePercent: 20 },
    expected: { imageGCHighThresholdPercent: 70, imageGCLowThresholdPercent: 55, evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '10%', 'nodefs.inodesFree': '5%', 'imagefs.available': '20%' } },
  },
  { name: 'CRI-O socket', input: { ...base, cri: 'cri-o' }, expected: { containerRuntimeEndpoint: 'unix:///var/run/crio/crio.sock' } },
];

describe('kubeletConfiguration', () => {
  it.each(rows)('$name', ({ input, expected }) => {
    const config = kubeletConfiguration(input);
    expect(config).toMatchObject({ cgroupDriver: 'systemd', ...expected });
    KubeletConfiguration.parse(config);
    // imageMaximumGCAge is left off on purpose: images in an air gap cannot be pulled again once collected.
    expect(config).not.toHaveProperty('imageMaximumGCAge');
  });

  it.each([
    ['low above high', { imageGC: { highThresholdPercent: 70, lowThresholdPercent: 75 } }],
    ['high at 100', { imageGC: { highThresholdPercent: 100, lowThresholdPercent: 75 } }],
    ['no headroom before eviction (Kubernetes defaults 85 / 15%)', { imageGC: { highThresholdPercent: 85, lowThresholdPercent: 80 } }],
    ['a version before 1.31', { kubernetesVersion: '1.30.2' }],
    ['a version that is not x.y.z', { kubernetesVersion: '1.33' }],
  ])('refuses %s', (_n, change) => {
    expect(() => kubeletConfiguration({ ...base, ...change })).toThrow(UserError);
  });
});
