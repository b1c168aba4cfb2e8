// Lock = bundle: what a bundle carries, judged against the lock it was built from, so a bundle that would install
// something other than the lock says (the distribution's containerd 1.6 for a lock of 2.0, no kubeadm at all, a
// driver of another branch, an etcd tag kubeadm will not find) is refused on the internet side, where the spec can
// still be fixed. Pure: the caller reads the bundle. `bundle build` refuses a mismatch (exit 2); install's preflight
// refuses the same findings (exit 7) before any node changes.
import type { Lock } from '../config/lock.ts';

export interface BundleContents {
  /** OS packages: name and version as the repository gives them (`2.1.9-1`, `1.33.13-150500.1.1`, `1:2.0.8-1.el9`). */
  packages: readonly { name: string; version: string }[];
  /** Plain files: component and name (the registry binary is component `registry`). */
  files: readonly { component: string; name: string; version?: string }[];
  /** Every image reference the bundle's OCI layout names. */
  images: readonly string[];
}

export interface LockMismatch {
  /** The install phase that needs it right (runs the same check before anything changes on a node). */
  neededBy: 'container-runtime' | 'kubernetes-packages' | 'gpu-driver' | 'registry';
  component: string;
  /** What the lock wants. */
  wants: string;
  /** What the bundle has (or `nothing`). */
  found: string;
  /** What to change. */
  fix: string;
}

/** The upstream version inside a package version: epoch, Debian/RPM revision and repack suffixes removed
 * (`1:1.6.20~ds1-1+deb12u3` → `1.6.20`, `2.0.8-1.el9` → `2.0.8`, `1.33.13-1.1` → `1.33.13`). */
export function upstreamVersion(version: string): string {
  const noEpoch = version.replace(/^\d+:/, '');
  return noEpoch.split('-')[0]!.split(/[~+]/)[0]!;
}

const CONTAINERD_PACKAGES = ['containerd.io', 'containerd'];
const KUBE_PACKAGES = ['kubeadm', 'kubelet', 'kubectl'];

/**
 * Why ferry cannot install this stack, or null. CRI-O resolves in the matrix, but no install phase installs it yet:
 * a CRI-O lock would get containerd installed and kubelet pointed at CRI-O's socket.
 */
export function notInstallable(stack: Lock['stack']): string | null {
  if (stack.cri.name === 'cri-o')
    return `ferry cannot install CRI-O yet (the lock asks for cri-o ${stack.cri.version}): its install phases set up containerd only`;
  return null;
}

/** Every way the bundle's contents differ from the lock; empty when they agree. */
export function lockMismatches(lock: Lock, bundle: BundleContents): LockMismatch[] {
  const out: LockMismatch[] = [];
  const byName = new Map<string, string[]>();
  for (const p of bundle.packages) byName.set(p.name, [...(byName.get(p.name) ?? []), p.version]);
  const packageCheck = (neededBy: LockMismatch['neededBy'], component: string, names: readonly string[], want: string, fix: string) => {
    const present = names.filter((n) => byName.has(n));
    if (present.length === 0) {
      out.push({ neededBy, component, wants: want, found: 'nothing', fix });
      return;
    }
    for (const n of present)
      for (const v of byName.get(n)!) if (upstreamVersion(v) !== want) out.push({ neededBy, component, wants: want, found: `${n} ${v}`, fix });
  };

  const { stack } = lock;
  if (stack.cri.name === 'containerd')
    packageCheck('container-runtime', 'containerd', CONTAINERD_PACKAGES, stack.cri.version, `list containerd.io at the lock's version in the spec's packages (containerd.io={cri}* on Debian/Ubuntu, containerd.io-{cri} on EL) from a repository that has it`);
  // containerd.io carries its own runc; a separate runc package must be the locked one (the node's `runc --version`
  // is checked again by container-runtime).
  if (byName.has('runc')) packageCheck('container-runtime', 'runc', ['runc'], stack.runc, 'pin runc in the spec to the lock\'s version, or take it from containerd.io');
  for (const k of KUBE_PACKAGES)
    packageCheck('kubernetes-packages', k, [k], stack.kubernetes, `list ${k} at the lock's version (${k}={kubernetes}* or ${k}-{kubernetes}) from pkgs.k8s.io's repository for v{kubernetesMinor}`);
  if (stack.nvidiaDriver) {
    const branch = /\d+/.exec(stack.nvidiaDriver.branch)?.[0] ?? stack.nvidiaDriver.branch;
    const drivers = bundle.packages.filter((p) => /^(nvidia-open|cuda-drivers|nvidia-driver|kmod-nvidia)/.test(p.name) && !p.name.startsWith('nvidia-driver-pinning') && /^\d{3}\./.test(upstreamVersion(p.version)));
    const wrong = drivers.filter((p) => !upstreamVersion(p.version).startsWith(`${branch}.`));
    if (drivers.length === 0) out.push({ neededBy: 'gpu-driver', component: 'nvidia-driver', wants: `branch ${branch}`, found: 'nothing', fix: "add NVIDIA's repository for this OS to the spec (the driver packages come from gpuBuildPackages)" });
    for (const p of wrong) out.push({ neededBy: 'gpu-driver', component: 'nvidia-driver', wants: `branch ${branch}`, found: `${p.name} ${p.version}`, fix: 'pin the driver branch in the repository (module stream or pinning package), or resolve again for that branch' });
  }
  if (!bundle.files.some((f) => f.component === 'registry' && f.name === 'registry'))
    out.push({ neededBy: 'registry', component: 'registry', wants: 'the distribution registry binary', found: 'nothing', fix: "add distribution's release archive to the spec's files (component: registry, name: registry, extract: registry)" });
  const images = new Set(bundle.images);
  for (const image of lock.images) if (!images.has(image.ref)) out.push({ neededBy: 'registry', component: image.component, wants: image.ref, found: 'nothing', fix: 'build the bundle again from this lock (its images come from the lock)' });
  return out;
}

/** One line per mismatch, for an error message. */
export function renderMismatches(m: readonly LockMismatch[]): string {
  return m.map((x) => `${x.component}: the lock wants ${x.wants}, the bundle has ${x.found} (${x.fix})`).join('\n  ');
}

/** What the lock check needs, from a bundle's artifact records and its OCI index (image names). */
export function bundleContents(artifacts: readonly { kind: string; name?: string; version?: string; path: string }[], indexJson: string | undefined): BundleContents {
  const packages = artifacts.flatMap((a) => (a.kind === 'package' && a.name && a.version ? [{ name: a.name, version: a.version }] : []));
  const files = artifacts.flatMap((a) => {
    if (a.kind !== 'file' || !a.name) return [];
    const component = /^files\/([^/]+)\//.exec(a.path)?.[1] ?? '';
    return [{ component, name: a.name, ...(a.version ? { version: a.version } : {}) }];
  });
  const index = indexJson ? (JSON.parse(indexJson) as { manifests?: { annotations?: Record<string, string> }[] }) : {};
  const images = (index.manifests ?? []).flatMap((m) => {
    const ref = m.annotations?.['org.opencontainers.image.ref.name'];
    return ref ? [ref] : [];
  });
  return { packages, files, images };
}
