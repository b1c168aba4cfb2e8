// The demo's inputs for lab nodes, decided from facts gathered elsewhere: the lock (Debian 12 with the containerd
// and runc Debian ships, since the nodes install those), the bundle spec (the machine's own apt sources, only
// what a node lacks, Debian's registry binary when present) and the packages a node base already has.
import type { DebSource } from '../bundle/sources/deb-plan.ts';
import type { BundleSpec } from '../config/bundle-spec.ts';
import type { Lock } from '../config/lock.ts';

/** What the demo carries to the nodes: what install's phases need on Debian (runtime, balancer, a client). */
export const DEMO_PACKAGES = ['containerd', 'runc', 'haproxy', 'keepalived', 'curl'] as const;

/** The upstream part of a Debian version (`1:1.6.20~ds1-1+deb12u3` → `1.6.20`): no epoch, no revision, no ~suffix. */
export function upstreamVersion(debianVersion: string): string {
  const noEpoch = debianVersion.replace(/^\d+:/, '');
  return noEpoch.split(/[~+-]/)[0]!;
}

/** Names of the packages dpkg lists as installed in a dpkg `status` file. */
export function installedPackages(statusText: string): string[] {
  const out: string[] = [];
  for (const stanza of statusText.split(/\n\s*\n/)) {
    const name = /^Package: (\S+)$/m.exec(stanza)?.[1];
    if (name && /^Status: install ok installed$/m.test(stanza)) out.push(name);
  }
  return out.sort();
}

export interface LabLockInput {
  /** The lock of the built-in example, for the Kubernetes and CNI versions and the matrix digest. */
  example: Lock;
  /** Debian versions of the runtime packages on offer from the machine's apt sources. */
  containerd: string;
  runc: string;
  kernel: string;
  resolvedAt: string;
}

/** A lock for Debian 12 lab nodes: the example's Kubernetes and CNI, the runtime Debian ships (what the nodes get). */
export function labLock(input: LabLockInput): Lock {
  const { example } = input;
  return {
    apiVersion: 'ferry.dev/v1alpha1', kind: 'Lock', resolvedAt: input.resolvedAt, matrixDigest: example.matrixDigest,
    request: { os: 'debian-12', demo: true }, gpu: null,
    stack: {
      os: { id: 'debian', version: '12', family: 'debian', arch: 'amd64' }, kernel: input.kernel, cgroup: example.stack.cgroup,
      kubernetes: example.stack.kubernetes, cri: { name: 'containerd', version: upstreamVersion(input.containerd) },
      runc: upstreamVersion(input.runc), nvidiaDriver: null, cni: example.stack.cni,
    },
    platform: 'linux/amd64',
    // The bundle carries no upstream images (they need the internet); see installLock for the sandbox image.
    images: [],
    decisions: [], hostChanges: [],
    warnings: [`demo lock for lab nodes: Debian 12's own containerd ${input.containerd} and runc ${input.runc}, not a resolved stack`],
  };
}

/** The lock install reads: containerd's config names the sandbox (pause) image from it; nothing pulls it in the lab. */
export function installLock(lock: Lock, example: Lock): Lock {
  return { ...lock, images: example.images.filter((i) => /\/pause:/.test(i.ref)) };
}

export interface LabSpecInput {
  sources: DebSource[];
  /** Packages a node already has (none carried for those); undefined: the full dependency closure. */
  installed?: string[];
  /** Debian's registry binary, carried as files/registry when the machine has it. */
  registryBinary?: { path: string; sha256: string; version: string };
}

/** The bundle spec of the demo: Debian 12 packages from the machine's apt sources, and the registry binary. */
export function labSpec(input: LabSpecInput): BundleSpec {
  return {
    apiVersion: 'ferry.dev/v1alpha1', kind: 'BundleSpec', name: 'ferry-demo',
    os: { debian: { '12': { sources: input.sources, packages: [...DEMO_PACKAGES] } } },
    closure: input.installed ? { installed: input.installed } : 'full',
    images: { extra: [] },
    registries: { mirrors: {}, credentials: [], insecure: [] },
    files: input.registryBinary
      ? [{
          component: 'registry', name: 'registry', version: input.registryBinary.version,
          url: `file://${input.registryBinary.path}`, sha256: input.registryBinary.sha256, mode: 0o755,
        }]
      : [],
    kernels: [], nvidiaDriverInstaller: false, manifests: [], mirrors: {},
  };
}
