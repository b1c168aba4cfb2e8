// Schema of ferry.lock.yaml: the resolved stack, written by `ferry resolve --out`, read by `ferry bundle build`
// and `ferry install`. The contract between resolve and everything after it.
import { z } from 'zod';
import { ImageRef } from './image-ref.ts';

export const LOCK_API_VERSION = 'ferry.dev/v1alpha1';

const rulesAndWhy = {
  /** Ids of the matrix rules behind this choice (e.g. `containerd-min-for-k8s`). */
  rules: z.array(z.string()),
  why: z.string(),
};

/** A release version as upstreams write it: 1.33.2, 2.0.8, 580.126.18, 1.7.27-3.1 (no leading v). */
const version = z.string().regex(/^\d+(\.\d+){1,3}([-+~][0-9A-Za-z.+~-]+)?$/, 'must be a version such as 1.33.2');
/** The architectures ferry builds bundles for (Go names, as in linux/amd64). */
export const ARCHES = ['amd64', 'arm64'] as const;
/** The stack's arch may also be written the RPM way; the platform is always the Go name. */
const GO_ARCH: Readonly<Record<string, string>> = { amd64: 'amd64', arm64: 'arm64', x86_64: 'amd64', aarch64: 'arm64' };

export const Decision = z
  .object({
    component: z.string().min(1),
    version: z.string().min(1),
    ...rulesAndWhy,
    /** The oldest day on which the matrix facts behind this choice were read from their sources. */
    factsRead: z.string().optional(),
  })
  .strict();
export type Decision = z.infer<typeof Decision>;

export const HostChange = z
  .object({
    id: z.string(),
    /** What must change on the hosts, e.g. "boot with systemd.unified_cgroup_hierarchy=1". */
    description: z.string(),
    /** The command an operator (or ferry install) runs to make the change. */
    command: z.string().optional(),
    rules: z.array(z.string()),
  })
  .strict();
export type HostChange = z.infer<typeof HostChange>;

const StackOs = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be an os-release ID such as rocky or debian'),
    version: z.string().regex(/^\d+(\.\d+)?$/, 'must be an OS release such as 9.4 or 12'),
    family: z.enum(['el', 'debian']),
    arch: z.string().refine((a) => a in GO_ARCH, { message: `must be one of ${Object.keys(GO_ARCH).join(', ')}` }),
  })
  .strict();
const kernelSeries = z.string().regex(/^\d+\.\d+[0-9A-Za-z._+~-]*$/, 'must be a kernel release or series such as 5.14.0-427');
const cgroupVersion = z.enum(['v1', 'v2']);

/** One more OS release the stack was resolved for (a mixed cluster): its own kernel series and cgroup; every other
 * component of the stack is the same on it. */
export const AlsoOs = z.object({ os: StackOs, kernel: kernelSeries, cgroup: cgroupVersion }).strict();
export type AlsoOs = z.infer<typeof AlsoOs>;

export const Stack = z
  .object({
    /** The first OS release asked for (`ferry resolve --os`); the others of a mixed cluster are in `alsoOs`. */
    os: StackOs,
    kernel: kernelSeries,
    cgroup: cgroupVersion,
    /** The other OS releases (repeated `--os`), absent in a lock for one OS (and in every lock before mixed clusters). */
    alsoOs: z.array(AlsoOs).optional(),
    kubernetes: z.string().regex(/^1\.\d+\.\d+$/, 'must be a Kubernetes release such as 1.33.2'),
    cri: z.object({ name: z.enum(['containerd', 'cri-o']), version }).strict(),
    runc: version,
    nvidiaDriver: z
      .object({ branch: z.string().regex(/^R?\d{3}$/, 'must be a driver branch such as 580'), version, kernelModule: z.enum(['open', 'proprietary']) })
      .strict()
      .nullable(),
    cni: z.object({ name: z.enum(['calico', 'cilium', 'flannel']), version }).strict(),
  })
  .strict();
export type Stack = z.infer<typeof Stack>;

/** A container image the stack needs, fully qualified, with why it is needed. */
export const LockImage = z
  .object({ ref: ImageRef, component: z.string().min(1), critical: z.boolean().default(false) })
  .strict();
export type LockImage = z.infer<typeof LockImage>;

export const Lock = z
  .object({
    apiVersion: z.literal(LOCK_API_VERSION),
    kind: z.literal('Lock'),
    /** When resolve ran; end-of-life rules were judged against this date. */
    resolvedAt: z.iso.datetime({ message: 'must be an ISO 8601 time such as 2026-11-23T13:51:17.699Z' }),
    /** sha256 over the matrix files, so a lock can tell it was made from other data. */
    matrixDigest: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be sha256:<64 hex digits>'),
    /** The newest day on which any fact of that matrix was read from its source (absent in locks before it existed). */
    matrixReadAt: z.string().optional(),
    request: z.record(z.string(), z.unknown()),
    gpu: z.object({ model: z.string(), architecture: z.string() }).strict().nullable(),
    stack: Stack,
    /** Platform of every artifact, e.g. linux/amd64. */
    platform: z.string().regex(new RegExp(`^linux/(${ARCHES.join('|')})$`), `must be linux/${ARCHES.join(' or linux/')}`),
    images: z.array(LockImage),
    decisions: z.array(Decision),
    hostChanges: z.array(HostChange),
    warnings: z.array(z.string()),
  })
  .strict()
  .superRefine((lock, ctx) => {
    const arch = GO_ARCH[lock.stack.os.arch];
    if (arch && lock.platform !== `linux/${arch}`)
      ctx.addIssue({ code: 'custom', path: ['platform'], message: `${lock.platform} is not the stack's linux/${arch} (stack.os.arch ${lock.stack.os.arch})` });
    if (lock.gpu !== null && lock.stack.nvidiaDriver === null)
      ctx.addIssue({ code: 'custom', path: ['stack', 'nvidiaDriver'], message: `the lock names GPU ${lock.gpu.model} but no NVIDIA driver` });
    const seen = new Set([`${lock.stack.os.id}-${lock.stack.os.version}`]);
    (lock.stack.alsoOs ?? []).forEach((o, i) => {
      const name = `${o.os.id}-${o.os.version}`;
      if (seen.has(name)) ctx.addIssue({ code: 'custom', path: ['stack', 'alsoOs', i, 'os'], message: `${name} is named twice` });
      seen.add(name);
      if (GO_ARCH[o.os.arch] !== arch)
        ctx.addIssue({ code: 'custom', path: ['stack', 'alsoOs', i, 'os', 'arch'], message: `${o.os.arch} is not the stack's ${lock.stack.os.arch}: one bundle serves one platform` });
    });
    if (lock.stack.nvidiaDriver && !lock.stack.nvidiaDriver.version.startsWith(`${lock.stack.nvidiaDriver.branch.replace(/^R/, '')}.`))
      ctx.addIssue({ code: 'custom', path: ['stack', 'nvidiaDriver', 'version'], message: `${lock.stack.nvidiaDriver.version} is not on branch ${lock.stack.nvidiaDriver.branch}` });
  });
export type Lock = z.infer<typeof Lock>;
