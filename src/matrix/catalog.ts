// The matrix, precomputed for the resolver: ids expanded, versions parsed, candidates sorted newest first.
// Built once per run (the bench resolves thousands of requests against one catalog).
import type { SemVer } from 'semver';
import type { Matrix } from './schema.ts';
import { compareVersions, mustParse } from './version.ts';

/** Where a fact came from, carried into decisions and warnings. */
export interface FactRef {
  source: string;
  /** The day it was read from that source (`ferry matrix check` requires one). */
  read?: string | undefined;
  verified: boolean;
}

export interface OsEntry extends FactRef {
  id: string;
  distro: string;
  name: string;
  family: 'el' | 'debian';
  version: string;
  versionVer: SemVer;
  kernel: string;
  kernelVer: SemVer;
  systemd: number;
  cgroupDefault: 'v1' | 'v2';
  /** This distribution's end of support for the release. */
  eol: string;
  /** Red Hat's Extended Update Support keeps this minor alive until `eol`. */
  eus: boolean;
  /** The lifecycle fact behind `eol`. */
  lifecycle: FactRef;
}

type Kube = Matrix['kubernetes']['releases'][number];
export interface KubeEntry extends Kube {
  minorVer: SemVer;
  latestVer: SemVer;
  containerdMinVer: SemVer[];
}

type Containerd = Matrix['containerd']['releases'][number];
export interface ContainerdEntry extends Containerd {
  latestVer: SemVer;
  testedRuncVer: SemVer;
}

type Runc = Matrix['runc']['releases'][number];
export interface RuncEntry extends Runc {
  latestVer: SemVer;
}

type Floor = Matrix['runc']['securityFloors'][number];
export interface FloorEntry extends Floor {
  fixedInVer: SemVer[];
}

type Branch = Matrix['nvidia']['branches'][number];
export interface BranchEntry extends Branch {
  branchNum: number;
  latestVer: SemVer;
}

type Cni = Matrix['cni']['releases'][number];
export interface CniEntry extends Cni {
  latestVer: SemVer;
  kubeMin: SemVer | null;
  kubeMax: SemVer | null;
  kernelMinVer: SemVer;
  elMinVer: SemVer | null;
}

export type GpuEntry = Matrix['gpus']['models'][number] & { minDriverVer: SemVer | null };
export type ArchEntry = Matrix['nvidia']['architectures'][number];

export interface Catalog {
  matrix: Matrix;
  os: Map<string, OsEntry>;
  /** /etc/os-release `ID`s to the matrix's distro ids (`almalinux` → `alma`; every id maps to itself). */
  osReleaseIds: Map<string, string>;
  kubernetes: KubeEntry[];
  cgroupV1Rules: (Matrix['kubernetes']['cgroupV1Rules'][number] & { fromVer: SemVer })[];
  containerd: ContainerdEntry[];
  crio: Map<string, Matrix['crio']['releases'][number] & { latestVer: SemVer }>;
  runc: RuncEntry[];
  runcFloors: FloorEntry[];
  runcCgroupV2MinKernel: SemVer;
  /** The CVEs the runc floors cover, as one phrase. */
  runcFixedCves: string;
  /** Known lines (minors, branches) per pinnable component. */
  pinLines: Map<string, string[]>;
  branches: BranchEntry[];
  architectures: Map<string, ArchEntry>;
  gpus: Map<string, GpuEntry>;
  cni: Map<'calico' | 'cilium' | 'flannel', CniEntry[]>;
}

const newestFirst = <T>(key: (t: T) => SemVer) => (a: T, b: T) => compareVersions(key(b), key(a));

/** Precompute the matrix for fast, repeated resolves. Assumes the matrix passed its schema. */
export function buildCatalog(matrix: Matrix): Catalog {
  const distros = new Map(matrix.os.distros.map((d) => [d.id, d]));
  const os = new Map<string, OsEntry>();
  for (const r of matrix.os.releases) {
    for (const distro of r.distros) {
      const d = distros.get(distro);
      const id = `${distro}-${r.version}`;
      const life = r.lifecycle.find((l) => l.distro === distro);
      if (!life) continue; // `ferry matrix check` names the missing lifecycle
      os.set(id, {
        id,
        distro,
        name: `${d?.name ?? distro} ${r.version}`,
        family: d?.family ?? 'el',
        version: r.version,
        versionVer: mustParse(r.version),
        kernel: r.kernel,
        kernelVer: mustParse(r.kernel),
        systemd: r.systemd,
        cgroupDefault: r.cgroupDefault,
        eol: life.eol,
        eus: life.support === 'eus',
        lifecycle: life,
        source: r.source,
        read: r.read,
        verified: r.verified,
      });
    }
  }
  const cni = new Map<'calico' | 'cilium' | 'flannel', CniEntry[]>();
  for (const r of matrix.cni.releases) {
    const list = cni.get(r.name) ?? [];
    list.push({
      ...r,
      latestVer: mustParse(r.latest),
      kubeMin: r.kubernetes ? mustParse(r.kubernetes.min) : null,
      kubeMax: r.kubernetes ? mustParse(r.kubernetes.max) : null,
      kernelMinVer: mustParse(r.kernel.min),
      elMinVer: r.kernel.elMin ? mustParse(r.kernel.elMin) : null,
    });
    cni.set(r.name, list);
  }
  for (const list of cni.values()) list.sort(newestFirst((e) => e.latestVer));
  const newestMinorFirst = (xs: string[]) => xs.map((x) => [x, mustParse(x)] as const).sort((a, b) => compareVersions(b[1], a[1])).map(([x]) => x);
  const pinLines = new Map<string, string[]>([
    ['kubernetes', newestMinorFirst(matrix.kubernetes.releases.map((k) => k.minor))],
    ['containerd', newestMinorFirst(matrix.containerd.releases.map((c) => c.branch))],
    ['cri-o', newestMinorFirst(matrix.crio.releases.map((c) => c.minor))],
    ['runc', newestMinorFirst(matrix.runc.releases.map((r) => r.branch))],
    ['nvidia-driver', matrix.nvidia.branches.map((b) => b.branch).sort((a, b) => Number(b) - Number(a))],
    ...[...cni].map(([name, list]) => [name, list.map((c) => c.minor)] as [string, string[]]),
  ]);
  const osReleaseIds = new Map<string, string>();
  for (const d of matrix.os.distros) for (const alias of [d.id, ...(d.osReleaseIds ?? [])]) osReleaseIds.set(alias, d.id);
  return {
    pinLines,
    osReleaseIds,
    runcFixedCves: matrix.runc.securityFloors.flatMap((f) => f.cves).join(', '),
    matrix,
    os,
    kubernetes: matrix.kubernetes.releases
      .map((k) => ({
        ...k,
        minorVer: mustParse(k.minor),
        latestVer: mustParse(k.latest),
        containerdMinVer: k.containerd.min.map(mustParse),
      }))
      .sort(newestFirst((k) => k.minorVer)),
    cgroupV1Rules: matrix.kubernetes.cgroupV1Rules.map((r) => ({ ...r, fromVer: mustParse(r.fromMinor) })),
    containerd: matrix.containerd.releases
      .map((c) => ({ ...c, latestVer: mustParse(c.latest), testedRuncVer: mustParse(c.testedRunc) }))
      .sort(newestFirst((c) => c.latestVer)),
    crio: new Map(matrix.crio.releases.map((c) => [c.minor, { ...c, latestVer: mustParse(c.latest) }])),
    runc: matrix.runc.releases.map((r) => ({ ...r, latestVer: mustParse(r.latest) })).sort(newestFirst((r) => r.latestVer)),
    runcCgroupV2MinKernel: mustParse(matrix.runc.cgroupV2.minKernel),
    runcFloors: matrix.runc.securityFloors.map((f) => ({ ...f, fixedInVer: f.fixedIn.map(mustParse) })),
    branches: matrix.nvidia.branches
      .map((b) => ({ ...b, branchNum: Number(b.branch), latestVer: mustParse(b.latest) }))
      .sort((a, b) => b.branchNum - a.branchNum),
    architectures: new Map(matrix.nvidia.architectures.map((a) => [a.id, a])),
    gpus: new Map(
      matrix.gpus.models.map((g) => [g.id, { ...g, minDriverVer: g.minDriver ? mustParse(g.minDriver.version) : null }]),
    ),
    cni,
  };
}
