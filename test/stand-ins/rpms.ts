// STAND-IN packages as RPMs: kubeadm, kubelet and kubectl named and versioned as pkgs.k8s.io's rpm repository names
// them (`<version>-150500.1.1.x86_64`), carrying the same Python stand-ins and files as the .debs (debs.ts). Built
// with rpmbuild, cached under /var/cache/ferry-test by a hash of their content. Test code only: nothing in src/ uses this.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { buildCachedDir } from '../../src/lab/file-lock.ts';
import { CACHE_DIR } from '../../src/lab/rootfs.ts';
import { buildRpm, type RpmSpec } from '../../src/replica/rpm-builder.ts';
import { kubePackageVersion } from '../../src/phases/kube/package-versions.ts';
import { standInDebSpecs, standInSourceHash } from './debs.ts';

/** Bump when the RPM layout below changes. */
const LAYOUT = 1;

// pkgs.k8s.io's kubelet.spec does not enable the unit (its install guide runs `systemctl enable --now kubelet`); erase
// stops it, as the %systemd_preun macro does.
const KUBELET_SCRIPTS: RpmSpec['scripts'] = {
  post: 'if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null 2>&1 || :; fi',
  preun: 'if [ $1 -eq 0 ] && [ -d /run/systemd/system ]; then systemctl --no-reload disable --now kubelet.service >/dev/null 2>&1 || :; fi',
  postun: 'if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null 2>&1 || :; fi',
};

export interface StandInRpms {
  dir: string;
  /** version-release, e.g. 1.33.1-150500.1.1 */
  version: string;
  /** Paths of the three RPMs. */
  files: string[];
}

/** The three stand-in RPMs for a Kubernetes version (e.g. 1.33.1), built once per content and reused. */
export async function standInRpms(kubernetes: string): Promise<StandInRpms> {
  const version = kubePackageVersion('el', kubernetes);
  const [v, release] = [version.split('-')[0]!, version.split('-').slice(1).join('-')];
  const specs = await standInDebSpecs(kubernetes);
  const rpmSpecs: RpmSpec[] = specs.map((d) => ({
    name: d.name, version: v, release, summary: d.description, license: 'ASL 2.0', url: 'https://kubernetes.io',
    description: `${d.description}\n\nA ferry test STAND-IN packed as pkgs.k8s.io's RPM; not Kubernetes.`,
    // The .debs' Depends under EL's names.
    requires: ['python3', 'python3-pyyaml', 'openssl'],
    files: d.files, ...(d.links ? { links: d.links } : {}), ...(d.dirs ? { dirs: d.dirs } : {}),
    ...(d.name === 'kubelet' ? { scripts: KUBELET_SCRIPTS } : {}),
  }));
  const key = createHash('sha256').update(JSON.stringify({ LAYOUT, rpmSpecs: rpmSpecs.map((s) => ({ ...s, files: Object.keys(s.files ?? {}) })), py: await standInSourceHash() })).digest('hex').slice(0, 12);
  const dir = join(CACHE_DIR, `stand-in-rpms-${key}`);
  const files = rpmSpecs.map((s) => join(dir, `${s.name}-${version}.x86_64.rpm`));
  await buildCachedDir(dir, async (work) => {
    for (const s of rpmSpecs) await buildRpm(s, work);
  });
  return { dir, version, files };
}
