// Schema of ferry.lock.yaml: the resolved stack, written by `ferry resolve --out`, read by `ferry bundle build`
// and `ferry install`. The contract between resolve and everything after it.
import { z } from 'zod';

export const LOCK_API_VERSION = 'ferry.dev/v1alpha1';

const rulesAndWhy = {
  /** Ids of the matrix rules behind this choice (e.g. `containerd-min-for-k8s`). */
  rules: z.array(z.string()),
  why: z.string(),
};

export const Decision = z
  .object({
    component: z.string(),
    version: z.string(),
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

export const Stack = z
  .object({
    os: z.object({ id: z.string(), version: z.string(), family: z.enum(['el', 'debian']), arch: z.string() }).strict(),
    kernel: z.string(),
    cgroup: z.enum(['v1', 'v2']),
    kubernetes: z.string(),
    cri: z.object({ name: z.enum(['containerd', 'cri-o']), version: z.string() }).strict(),
    runc: z.string(),
    nvidiaDriver: z
      .object({ branch: z.string(), version: z.string(), kernelModule: z.enum(['open', 'proprietary']) })
      .strict()
      .nullable(),
    cni: z.object({ name: z.enum(['calico', 'cilium', 'flannel']), version: z.string() }).strict(),
  })
  .strict();
export type Stack = z.infer<typeof Stack>;

/** A container image the stack needs, fully qualified, with why it is needed. */
export const LockImage = z
  .object({ ref: z.string(), component: z.string(), critical: z.boolean().default(false) })
  .strict();
export type LockImage = z.infer<typeof LockImage>;

export const Lock = z
  .object({
    apiVersion: z.literal(LOCK_API_VERSION),
    kind: z.literal('Lock'),
    /** When resolve ran; end-of-life rules were judged against this date. */
    resolvedAt: z.string(),
    /** sha256 over the matrix files, so a lock can tell it was made from other data. */
    matrixDigest: z.string(),
    /** The newest day on which any fact of that matrix was read from its source (absent in locks before it existed). */
    matrixReadAt: z.string().optional(),
    request: z.record(z.string(), z.unknown()),
    gpu: z.object({ model: z.string(), architecture: z.string() }).strict().nullable(),
    stack: Stack,
    /** Platform of every artifact, e.g. linux/amd64. */
    platform: z.string(),
    images: z.array(LockImage),
    decisions: z.array(Decision),
    hostChanges: z.array(HostChange),
    warnings: z.array(z.string()),
  })
  .strict();
export type Lock = z.infer<typeof Lock>;
