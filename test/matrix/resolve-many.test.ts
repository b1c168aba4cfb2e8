import { beforeAll, describe, expect, it } from 'vitest';
import { Lock } from '../../src/config/lock.ts';
import { lockOses, lockOsFor, lockOn, osName } from '../../src/config/lock-os.ts';
import type { Catalog } from '../../src/matrix/catalog.ts';
import { parseRequests, type RawRequest } from '../../src/matrix/request.ts';
import { resolveMixed } from '../../src/matrix/resolve-many.ts';
import { toLock } from '../../src/matrix/to-lock.ts';
import { NOW, realMatrix } from './fixture.ts';

let catalog: Catalog;
beforeAll(async () => {
  catalog = (await realMatrix()).catalog;
});

const mixed = (raw: RawRequest) => resolveMixed(catalog, parseRequests(catalog, raw), NOW);

// Several OS releases at once: one Kubernetes, CRI, runc, CNI and driver valid on all; per OS its kernel and cgroup.
const rows: {
  name: string;
  raw: RawRequest;
  expect: { oses: string[]; kernels: string[]; cgroups: string[]; shared: Record<string, unknown> };
  hostChanges?: string[];
  warning?: RegExp;
}[] = [
  {
    name: 'Rocky 9.4 control planes and a Debian 12 worker, 1.33: the same stack as each alone, both cgroup v2',
    raw: { os: 'rocky-9.4', alsoOs: ['debian-12'], k8s: '1.33' },
    expect: { oses: ['rocky-9.4', 'debian-12'], kernels: ['5.14.0-427', '6.1.0'], cgroups: ['v2', 'v2'], shared: { kubernetes: '1.33.13', cri: { name: 'containerd', version: '2.0.11' }, runc: '1.3.6', cni: { name: 'calico', version: '3.31.7' } } },
  },
  {
    name: 'Ubuntu 22.04 alone takes Cilium 1.18 and Kubernetes 1.36; RHEL 8.6 (kernel 4.18) forces Cilium 1.17 on both, and says so',
    raw: { os: 'ubuntu-22.04', alsoOs: ['rhel-8.6'], cni: 'cilium' },
    expect: { oses: ['ubuntu-22.04', 'rhel-8.6'], kernels: ['5.15.0', '4.18.0-372'], cgroups: ['v2', 'v2'], shared: { cni: { name: 'cilium', version: '1.17.15' } } },
    hostChanges: ['cgroup-v2-kernel-arg'],
    warning: /ubuntu-22\.04 alone would take .*cilium 1\.18\.14; every OS takes what rhel-8\.6 takes/,
  },
  {
    name: 'EL8 with Kubernetes 1.33 keeps cgroup v1 beside a Debian worker on v2 (cgroup is per OS)',
    raw: { os: 'rocky-8.10', alsoOs: ['debian-12'], k8s: '1.33' },
    expect: { oses: ['rocky-8.10', 'debian-12'], kernels: ['4.18.0-553', '6.1.0'], cgroups: ['v1', 'v2'], shared: { kubernetes: '1.33.13' } },
  },
  {
    name: 'a GPU on a mixed cluster: one driver branch for every OS',
    raw: { os: 'rocky-9.4', alsoOs: ['debian-12'], gpu: 'h100', k8s: '1.33' },
    expect: { oses: ['rocky-9.4', 'debian-12'], kernels: ['5.14.0-427', '6.1.0'], cgroups: ['v2', 'v2'], shared: { nvidiaDriver: { branch: '620', version: '620.70.06', kernelModule: 'open' } } },
    hostChanges: ['nvidia-blacklist-nouveau'],
  },
];

describe('resolveMixed: one stack for several OS releases', () => {
  it.each(rows)('$name', (row) => {
    const res = mixed(row.raw);
    if (!res.ok) throw new Error(res.conflicts.map((c) => c.message).join('\n'));
    const oses = lockOses(res.stack);
    expect(oses.map((o) => osName(o.os))).toEqual(row.expect.oses);
    expect(oses.map((o) => o.kernel)).toEqual(row.expect.kernels);
    expect(oses.map((o) => o.cgroup)).toEqual(row.expect.cgroups);
    expect(res.stack).toMatchObject(row.expect.shared);
    // Each OS alone accepts the shared choice: resolving it with the shared versions pinned gives the same stack.
    for (const [i, os] of row.expect.oses.entries()) {
      const alone = mixed({ ...row.raw, os, alsoOs: [], k8s: res.stack.kubernetes, cni: res.stack.cni.name, pins: [`runc=${res.stack.runc}`, `containerd=${res.stack.cri.version}`, `${res.stack.cni.name}=${res.stack.cni.version}`] });
      expect(alone.ok && { kernel: alone.stack.kernel, cgroup: alone.stack.cgroup }, os).toEqual({ kernel: row.expect.kernels[i], cgroup: row.expect.cgroups[i] });
    }
    expect(res.decisions.filter((d) => d.component === 'os').map((d) => d.version)).toEqual(row.expect.oses);
    expect(res.decisions.filter((d) => d.component === 'kubernetes')).toHaveLength(1);
    expect(res.hostChanges.map((h) => h.id)).toEqual(row.hostChanges ?? []);
    if (row.warning) expect(res.warnings.join('\n')).toMatch(row.warning);
    // The lock records every OS and reads back; each OS's view is a one-OS lock.
    const lock = Lock.parse(toLock(catalog, res, { raw: row.raw, now: NOW, matrixDigest: `sha256:${'0'.repeat(64)}` }));
    expect(lock.request.alsoOs).toEqual(row.raw.alsoOs);
    const last = lockOses(lock.stack).at(-1)!;
    expect(lockOn(lock, last).stack).toEqual({ ...res.stack, os: last.os, kernel: last.kernel, cgroup: last.cgroup, alsoOs: undefined });
  });

  const refusals: { name: string; raw: RawRequest; message: RegExp; rules: string[] }[] = [
    {
      name: 'Cilium 1.18 pinned: RHEL 8.6 (kernel 4.18, no EL exception in 1.18) refuses it, named as the OS that forced the refusal',
      raw: { os: 'ubuntu-22.04', alsoOs: ['rhel-8.6'], pins: ['cilium=1.18'] },
      message: /^rhel-8\.6: cilium 1\.18 needs kernel 5\.10\+; rhel-8\.6 runs 4\.18\.0-372/,
      rules: ['cni-kernel-min'],
    },
    {
      name: 'cgroup v1 with Kubernetes 1.35: refused on each OS, each named',
      raw: { os: 'debian-12', alsoOs: ['rhel-8.10'], k8s: '1.35', cgroup: 'v1' },
      message: /^rhel-8\.10: kubelet refuses to start on cgroup v1/,
      rules: ['k8s-1.35-refuses-cgroup-v1'],
    },
  ];
  it.each(refusals)('refuses: $name', (row) => {
    const res = mixed(row.raw);
    expect(res.ok).toBe(false);
    if (res.ok) return;
    const hit = res.conflicts.find((c) => row.message.test(c.message));
    expect(hit, res.conflicts.map((c) => c.message).join('\n')).toBeDefined();
    expect(hit!.rules).toEqual(row.rules);
  });

  it('one OS is plain resolve: no alsoOs in the stack', () => {
    const res = mixed({ os: 'debian-12', k8s: '1.33' });
    expect(res.ok && res.stack.alsoOs).toBeUndefined();
  });

  it.each([
    ['the same OS twice', { os: 'rocky-9.4', alsoOs: ['rocky-9.4'] }, /rocky-9\.4 is named twice/],
    ['the same OS under another spelling', { os: 'alma-9.4', alsoOs: ['almalinux-9.4'] }, /alma-9\.4 is named twice/],
    ['an unknown OS among them', { os: 'rocky-9.4', alsoOs: ['debian-11'] }, /unknown OS "debian-11"/],
  ])('refuses a request with %s', (_name, raw, message) => {
    expect(() => parseRequests(catalog, raw)).toThrow(message);
  });
});

describe('lock OS helpers', () => {
  const stack = {
    os: { id: 'rocky', version: '9.4', family: 'el' as const, arch: 'amd64' },
    kernel: '5.14.0-427',
    cgroup: 'v2' as const,
    alsoOs: [
      { os: { id: 'debian', version: '12', family: 'debian' as const, arch: 'amd64' }, kernel: '6.1.0', cgroup: 'v2' as const },
      { os: { id: 'rocky', version: '9.6', family: 'el' as const, arch: 'amd64' }, kernel: '5.14.0-570', cgroup: 'v2' as const },
    ],
  };
  it.each([
    ['a Debian 12 node', { id: 'debian', versionId: '12' }, 'debian-12'],
    ['a Rocky 9.6 node: its own minor', { id: 'rocky', versionId: '9.6' }, 'rocky-9.6'],
    ['a Rocky 9.4 node', { id: 'rocky', versionId: '9.4' }, 'rocky-9.4'],
    ['a Rocky 9.2 node: the first of its major', { id: 'rocky', versionId: '9.2' }, 'rocky-9.4'],
    ['an Ubuntu node: none', { id: 'ubuntu', versionId: '24.04' }, undefined],
    ['a Rocky 8 node: none', { id: 'rocky', versionId: '8.10' }, undefined],
  ])('lockOsFor %s', (_name, node, want) => {
    const found = lockOsFor(stack, node);
    expect(found && osName(found.os)).toBe(want);
  });

  const base = { apiVersion: 'ferry.dev/v1alpha1', kind: 'Lock', resolvedAt: '2026-12-07T00:00:00.000Z', matrixDigest: `sha256:${'0'.repeat(64)}`, request: {}, gpu: null, platform: 'linux/amd64', images: [], decisions: [], hostChanges: [], warnings: [] };
  const shared = { kubernetes: '1.33.13', cri: { name: 'containerd', version: '2.0.11' }, runc: '1.3.6', nvidiaDriver: null, cni: { name: 'calico', version: '3.31.7' } };
  it.each([
    ['a one-OS lock as written before mixed clusters', { ...stack, alsoOs: undefined }, undefined],
    ['a mixed lock', stack, undefined],
    ['an OS named twice', { ...stack, alsoOs: [stack.alsoOs[0], stack.alsoOs[0]] }, /debian-12 is named twice/],
    ['another arch', { ...stack, alsoOs: [{ ...stack.alsoOs[0], os: { ...stack.alsoOs[0]!.os, arch: 'arm64' } }] }, /arm64 is not the stack's amd64/],
  ])('Lock schema: %s', (_name, s, error) => {
    const r = Lock.safeParse({ ...base, stack: { ...shared, ...s } });
    if (error) expect(r.success ? '' : r.error.message).toMatch(error);
    else expect(r.success, r.success ? '' : r.error.message).toBe(true);
  });
});
