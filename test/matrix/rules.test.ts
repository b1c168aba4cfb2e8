import { beforeAll, describe, expect, it } from 'vitest';
import type { Catalog } from '../../src/matrix/catalog.ts';
import { cniForKernel, containerdForKube, runcFloorsFailed } from '../../src/matrix/rules.ts';
import { mustParse } from '../../src/matrix/version.ts';
import { realMatrix } from './fixture.ts';

let catalog: Catalog;
beforeAll(async () => {
  catalog = (await realMatrix()).catalog;
});

describe('runc security floors (GHSA-xr7r-f8xq-vfvv, GHSA-9493-h29p-rfm2, GHSA-xjvp-4fhw-gc47)', () => {
  const rows: [string, string[]][] = [
    ['1.1.11', ['runc-cve-2024-21626', 'runc-cve-2025-52565', 'runc-cve-2026-41579']],
    ['1.1.15', ['runc-cve-2025-52565', 'runc-cve-2026-41579']],
    ['1.2.7', ['runc-cve-2025-52565', 'runc-cve-2026-41579']],
    ['1.2.9', ['runc-cve-2026-41579']],
    ['1.3.2', ['runc-cve-2025-52565', 'runc-cve-2026-41579']],
    ['1.3.5', ['runc-cve-2026-41579']],
    ['1.3.6', []],
    ['1.4.2', ['runc-cve-2026-41579']],
    ['1.4.3', []],
    ['1.5.0', []],
  ];
  it.each(rows)('runc %s fails %j', (version, failed) => {
    expect(runcFloorsFailed(mustParse(version), catalog.runcFloors).flatMap((c) => c.rules)).toEqual(failed);
  });
});

describe('containerd-min-for-k8s (containerd RELEASES.md)', () => {
  const rows: [string, string, boolean][] = [
    ['1.33', '2.0.4', true],
    ['1.33', '2.0.3', false],
    ['1.33', '2.1.0', true],
    ['1.33', '2.3.0', false],
    ['1.36', '1.7.28', false],
    ['1.36', '2.2.0', true],
    ['1.30', '1.6.28', true],
  ];
  it.each(rows)('Kubernetes %s with containerd %s: allowed=%s', (minor, version, allowed) => {
    const kube = catalog.kubernetes.find((k) => k.minor === minor)!;
    const v = mustParse(version);
    const entry = catalog.containerd.find((c) => c.branch === `${v.major}.${v.minor}`)!;
    expect(containerdForKube(v, entry, kube) === null).toBe(allowed);
  });
});

describe('cni-kernel-min (Cilium system requirements)', () => {
  const rows: [string, string, boolean][] = [
    ['cilium', '1.16', true],
    ['cilium', '1.17', true],
    ['cilium', '1.18', false],
  ];
  it.each(rows)('RHEL 8.10 (4.18) with %s %s: allowed=%s', (name, minor, allowed) => {
    const cni = catalog.cni.get(name as 'cilium')!.find((c) => c.minor === minor)!;
    expect(cniForKernel(cni, catalog.os.get('rhel-8.10')!) === null).toBe(allowed);
  });

  it('Cilium 1.17 needs RHEL 8.6 or newer on the 4.18 kernel, and 5.4 elsewhere', () => {
    const cni = catalog.cni.get('cilium')!.find((c) => c.minor === '1.17')!;
    expect(cniForKernel(cni, catalog.os.get('rocky-8.6')!)).toBeNull();
    expect(cniForKernel(cni, catalog.os.get('ubuntu-22.04')!)).toBeNull();
    const oldEl = { ...catalog.os.get('rocky-8.6')!, versionVer: mustParse('8.5') };
    expect(cniForKernel(cni, oldEl)?.rules).toEqual(['cni-kernel-min']);
  });
});
