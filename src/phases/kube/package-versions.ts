// The Kubernetes package versions as pkgs.k8s.io names them, per OS family: one place for the mapping so the
// install, its observe → plan and the bundle agree. Debian builds are `<version>-1.1` (e.g. kubeadm=1.33.1-1.1), RPM
// builds `<version>-150500.1.1` (e.g. kubeadm-1.29.0-150500.1.1, as sites install them from pkgs.k8s.io).
import { UserError } from '../../errors.ts';

export const KUBE_PACKAGES = ['kubeadm', 'kubelet', 'kubectl'] as const;

/** The package version string (without epoch) of Kubernetes `version` on `family`. */
export function kubePackageVersion(family: 'debian' | 'el', version: string): string {
  const m = /^v?(\d+\.\d+\.\d+)$/.exec(version);
  if (!m) throw new UserError(`Kubernetes version must look like 1.33.1, got ${JSON.stringify(version)}`);
  return family === 'debian' ? `${m[1]}-1.1` : `${m[1]}-150500.1.1`;
}

/** The install arguments that pin each package to that version (apt `name=V`, dnf `name-V`). */
export function kubePackageSpecs(family: 'debian' | 'el', version: string): string[] {
  const v = kubePackageVersion(family, version);
  return KUBE_PACKAGES.map((p) => (family === 'debian' ? `${p}=${v}` : `${p}-${v}`));
}

/** The read-only query printing `name version-release` of each installed Kubernetes package. */
export function kubeVersionQuery(family: 'debian' | 'el'): string[] {
  return family === 'debian'
    ? ['dpkg-query', '-W', '-f', '${Package} ${Version} ${db:Status-Abbrev}\n', ...KUBE_PACKAGES]
    : ['rpm', '-q', '--qf', '%{NAME} %{VERSION}-%{RELEASE} ii\n', ...KUBE_PACKAGES];
}

/** The packages of KUBE_PACKAGES not installed at exactly the wanted version, from kubeVersionQuery's output. */
export function wrongKubePackages(family: 'debian' | 'el', version: string, output: string): string[] {
  const want = kubePackageVersion(family, version);
  const have = new Map<string, string>();
  for (const line of output.split('\n')) {
    const [name, v, status] = line.trim().split(/\s+/);
    // dpkg's db:Status-Abbrev: wanted (i install, h hold), then state (i installed): "ii", "hi" held; "rc" removed.
    if (name && v && status?.[1] === 'i') have.set(name, v.replace(/^\d+:/, ''));
  }
  return KUBE_PACKAGES.filter((p) => have.get(p) !== want);
}
