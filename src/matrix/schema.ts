// Schemas of the matrix files in matrices/: one kind per component family, every fact with its source.
import { z } from 'zod';

const version = z.string().regex(/^\d+(\.\d+){0,3}(-[0-9A-Za-z.-]+)?$/, 'must be a quoted version such as "1.35" or "2.3.0"');
const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a quoted date YYYY-MM-DD');
const ruleId = z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'must be a kebab-case rule id');
const imageTag = z.string().regex(/^[\w][\w.-]{0,127}$/, 'must be an image tag');

/** Where a fact was read, when, and whether that primary source confirmed it (`ferry matrix check` requires `read`). */
const fact = {
  source: z.string().min(1, 'needs a source (URL or document path)'),
  read: date.optional(),
  verified: z.boolean(),
  note: z.string().optional(),
};

export const OsFile = z
  .object({
    kind: z.literal('OsReleases'),
    distros: z
      .array(
        z
          .object({
            id: z.string(),
            name: z.string(),
            family: z.enum(['el', 'debian']),
            /** Other `ID`s of /etc/os-release that name this distribution (AlmaLinux writes `almalinux`). */
            osReleaseIds: z.array(z.string()).optional(),
          })
          .strict(),
      )
      .min(1),
    /** /etc/os-release IDs ferry recognises and refuses, with the reason the error names. */
    refused: z.array(z.object({ id: z.string(), name: z.string(), reason: z.string() }).strict()).default([]),
    releases: z.array(
      z
        .object({
          distros: z.array(z.string()).min(1),
          version: version,
          kernel: z.string().regex(/^\d+\.\d+\.\d+(-\d+)?$/, 'must be a kernel version such as "4.18.0-553"'),
          systemd: z.number().int(),
          cgroupDefault: z.enum(['v1', 'v2']),
          /** Each distribution's end of support for this release (a minor of EL ends differently per rebuild). */
          lifecycle: z
            .array(z.object({ distro: z.string(), eol: date, support: z.enum(['eus']).optional(), ...fact }).strict())
            .min(1),
          ...fact,
        })
        .strict(),
    ),
  })
  .strict();

const cgroupV1Rule = z
  .object({ id: ruleId, fromMinor: version, effect: z.enum(['warn', 'refuse']), message: z.string(), ...fact })
  .strict();

export const KubernetesFile = z
  .object({
    kind: z.literal('KubernetesReleases'),
    skew: z.object({ kubeletOlderMinors: z.number().int(), ...fact }).strict(),
    cgroupV1Rules: z.array(cgroupV1Rule),
    releases: z.array(
      z
        .object({
          minor: version,
          latest: version,
          released: date,
          eol: date,
          /** Empty while containerd's RELEASES.md recommends nothing for the minor: then it is never resolved. */
          containerd: z.object({ min: z.array(version), ...fact }).strict(),
          /** Absent until read from the release branch: then the minor is never resolved. */
          kubeadmImages: z.object({ etcd: imageTag, coredns: imageTag, pause: imageTag, ...fact }).strict().optional(),
          ...fact,
        })
        .strict(),
    ),
  })
  .strict();

export const ContainerdFile = z
  .object({
    kind: z.literal('ContainerdReleases'),
    releases: z.array(
      z
        .object({
          branch: version,
          latest: version,
          eol: date,
          lts: z.boolean(),
          testedRunc: version,
          cgroupV1Deprecated: z.boolean().default(false),
          ...fact,
        })
        .strict(),
    ),
  })
  .strict();

export const CrioFile = z
  .object({
    kind: z.literal('CrioReleases'),
    policy: z.object({ id: ruleId, ...fact }).strict(),
    releases: z.array(z.object({ minor: version, latest: version, ...fact }).strict()),
  })
  .strict();

export const RuncFile = z
  .object({
    kind: z.literal('RuncReleases'),
    releases: z.array(z.object({ branch: version, latest: version, eol: date.optional(), ...fact }).strict()),
    securityFloors: z.array(
      z.object({ id: ruleId, cves: z.array(z.string()).min(1), fixedIn: z.array(version).min(1), ...fact }).strict(),
    ),
    cgroupV2: z.object({ id: ruleId, minKernel: version, recommendedSystemd: z.number().int(), ...fact }).strict(),
  })
  .strict();

const kernelModule = z.enum(['open', 'proprietary']);

export const NvidiaFile = z
  .object({
    kind: z.literal('NvidiaDrivers'),
    branches: z.array(
      z
        .object({ branch: z.string().regex(/^\d+$/), type: z.enum(['ltsb', 'pb', 'nfb']), latest: version, eol: date, ...fact })
        .strict(),
    ),
    kernelModules: z.object({ id: ruleId, openDefaultFrom: z.string().regex(/^\d+$/), ...fact }).strict(),
    architectures: z.array(
      z
        .object({
          id: z.string(),
          name: z.string(),
          constraints: z.array(
            z
              .object({
                id: ruleId,
                minBranch: z.string().regex(/^\d+$/).optional(),
                maxBranch: z.string().regex(/^\d+$/).optional(),
                modules: z.array(kernelModule).min(1).optional(),
                ...fact,
              })
              .strict(),
          ),
        })
        .strict(),
    ),
    devicePlugin: z.object({ image: z.string(), version: imageTag, ...fact }).strict(),
  })
  .strict();

export const GpuFile = z
  .object({
    kind: z.literal('GpuModels'),
    models: z.array(
      z
        .object({
          id: z.string().regex(/^[a-z0-9]+$/, 'must be a lowercase model id such as h100'),
          name: z.string(),
          architecture: z.string(),
          minDriver: z.object({ id: ruleId, version: version, ...fact }).strict().optional(),
          ...fact,
        })
        .strict(),
    ),
  })
  .strict();

export const CniName = z.enum(['calico', 'cilium', 'flannel']);

export const CniFile = z
  .object({
    kind: z.literal('CniReleases'),
    policies: z.array(z.object({ cni: CniName, networkPolicy: z.boolean(), ...fact }).strict()),
    releases: z.array(
      z
        .object({
          name: CniName,
          minor: version,
          latest: version,
          kubernetes: z.object({ min: version, max: version, ...fact }).strict().optional(),
          kernel: z.object({ min: version, elMin: version.optional(), ...fact }).strict(),
          images: z.array(z.object({ repo: z.string(), tag: imageTag.optional() }).strict()).min(1),
          ...fact,
        })
        .strict(),
    ),
  })
  .strict();

/** Any one matrix file; `kind` says which. */
export const MatrixFile = z.discriminatedUnion('kind', [
  OsFile,
  KubernetesFile,
  ContainerdFile,
  CrioFile,
  RuncFile,
  NvidiaFile,
  GpuFile,
  CniFile,
]);
export type MatrixFile = z.infer<typeof MatrixFile>;

/** The whole matrix: exactly one file of each kind. */
export interface Matrix {
  os: z.infer<typeof OsFile>;
  kubernetes: z.infer<typeof KubernetesFile>;
  containerd: z.infer<typeof ContainerdFile>;
  crio: z.infer<typeof CrioFile>;
  runc: z.infer<typeof RuncFile>;
  nvidia: z.infer<typeof NvidiaFile>;
  gpus: z.infer<typeof GpuFile>;
  cni: z.infer<typeof CniFile>;
}

/** Which Matrix field each file kind fills. */
export const KIND_FIELD = {
  OsReleases: 'os',
  KubernetesReleases: 'kubernetes',
  ContainerdReleases: 'containerd',
  CrioReleases: 'crio',
  RuncReleases: 'runc',
  NvidiaDrivers: 'nvidia',
  GpuModels: 'gpus',
  CniReleases: 'cni',
} as const satisfies Record<MatrixFile['kind'], keyof Matrix>;
