import { describe, expect, it } from 'vitest';
import { parse } from 'smol-toml';
import { renderCrioConfig, renderCrioRegistries, type CrioInput } from '../../src/render/crio.ts';
import { UserError } from '../../src/errors.ts';
import { localImageRef } from '../../src/render/local-image.ts';
import { images, registry } from './fixtures.ts';

// Keys from crio.conf(5) ([crio.runtime] cgroup_manager, conmon_cgroup, default_runtime, runtimes.<name>.runtime_path/
// runtime_type; [crio.image] pause_image, pinned_images) and containers-registries.conf(5) ([[registry]] prefix,
// location, [[registry.mirror]] location). No CRI-O binary exists on the test machine; the registries file is also
// run through containers/image by skopeo in registry-mirror.test.ts.
const pause = localImageRef('registry.k8s.io/pause:3.10', registry.name);
const critical = [localImageRef('registry.k8s.io/coredns/coredns:v1.12.0', registry.name)];
const rows: { name: string; input: CrioInput }[] = [
  { name: 'crio-runc', input: { pauseImage: pause, pinnedImages: critical } },
  { name: 'crio-gpu', input: { pauseImage: pause, pinnedImages: critical, gpu: { defaultRuntime: true } } },
];
const caPem = '-----BEGIN CERTIFICATE-----\nTEST-ONLY-NOT-A-REAL-CERTIFICATE\n-----END CERTIFICATE-----\n';

describe('CRI-O', () => {
  it.each(rows)('$name: renders the expected drop-in', async ({ name, input }) => {
    await expect(renderCrioConfig(input).content).toMatchFileSnapshot(`__snapshots__/${name}.conf`);
  });

  it.each(rows)('$name: systemd cgroups, local pause image, pause and critical images pinned', ({ input }) => {
    const toml = parse(renderCrioConfig(input).content) as Record<string, any>;
    expect(toml.crio.runtime.cgroup_manager).toBe('systemd');
    expect(toml.crio.runtime.conmon_cgroup).toBe('pod');
    expect(toml.crio.image.pause_image).toBe(pause);
    expect(toml.crio.image.pinned_images).toEqual([pause, ...critical]);
    if (input.gpu) {
      expect(toml.crio.runtime.default_runtime).toBe('nvidia');
      expect(toml.crio.runtime.runtimes.nvidia).toEqual({ runtime_path: '/usr/bin/nvidia-container-runtime', runtime_type: 'oci' });
    } else expect(toml.crio.runtime.default_runtime).toBeUndefined();
  });

  it('sends every upstream and the local name to the replicas, with ferry\'s CA for each replica', async () => {
    const files = renderCrioRegistries({ registry, images, caPem });
    await expect(files[0]!.content).toMatchFileSnapshot('__snapshots__/crio-registries.conf');
    const toml = parse(files[0]!.content) as { registry: { prefix: string; location: string; mirror: { location: string }[] }[] };
    expect(toml.registry.map((r) => r.prefix)).toEqual(['docker.io', 'ghcr.io', 'nvcr.io', 'quay.io', 'registry.k8s.io', 'registry.ferry.internal:5000']);
    const k8s = toml.registry.find((r) => r.prefix === 'registry.k8s.io')!;
    expect(k8s.location).toBe('10.20.0.11:5000/registry.k8s.io');
    expect(k8s.mirror.map((m) => m.location)).toEqual(registry.replicas.map((r) => `${r}/registry.k8s.io`));
    expect(files.slice(1).map((f) => f.path)).toEqual(registry.replicas.map((r) => `/etc/containers/certs.d/${r}/ca.crt`));
    expect(files[0]!.content).not.toMatch(/insecure\s*=\s*true|blocked/);
  });

  it('refuses a CA that is not PEM', () => {
    expect(() => renderCrioRegistries({ registry, images, caPem: 'not a cert' })).toThrow(UserError);
  });
});
