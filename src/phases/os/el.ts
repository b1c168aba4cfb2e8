// Enterprise Linux (RHEL, Rocky, Alma 8/9 share this base): dnf with a `file://` repository from the bundle,
// every other repository disabled for ferry's installs, module_hotfixes so modular filtering cannot hide a
// bundled package (EL8 AppStream modules), SELinux present. The Kubernetes packages are held as pkgs.k8s.io's own
// repo file holds them: excluded in the repository, so a later `dnf update` leaves them at the installed version, and
// only ferry's installs (and `ferry upgrade`) lift that with --disableexcludes=ferry.
import { renderedFile } from '../../render/file.ts';
import type { FamilyCommand, OsFamily } from './family.ts';

export const YUM_REPO_PATH = '/etc/yum.repos.d/ferry.repo';

const ONLY_FERRY = ['--disablerepo=*', '--enablerepo=ferry'];
const dnf = (...args: string[]): FamilyCommand => ({ argv: ['dnf', '-y', '-q', ...ONLY_FERRY, ...args] });
/** The packages ferry's repo excludes from every dnf command but its own installs (the hold; kubernetes-packages). */
export const HELD_PACKAGES = ['kubeadm', 'kubelet', 'kubectl'] as const;

/** The .repo text; gpgcheck only when the bundle carries the keys that signed its packages. */
export function yumRepoText(repoDir: string, gpgKeys: readonly string[]): string {
  const lines = [
    '# Written by ferry: the bundle\'s packages, offline.',
    '[ferry]',
    'name=ferry bundle (offline)',
    `baseurl=file://${repoDir}`,
    'enabled=1',
    `gpgcheck=${gpgKeys.length > 0 ? 1 : 0}`,
    ...(gpgKeys.length > 0 ? [`gpgkey=${gpgKeys.map((k) => `file://${repoDir}/${k}`).join(' ')}`] : []),
    'repo_gpgcheck=0',
    'module_hotfixes=1',
    // pkgs.k8s.io's own repo file excludes them the same way (https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/install-kubeadm/).
    `exclude=${HELD_PACKAGES.join(' ')}`,
    'skip_if_unavailable=0',
  ];
  return `${lines.join('\n')}\n`;
}

const EL_LIST = [
  "rpm -qa --qf '%{NAME} %{VERSION}-%{RELEASE}\\n' | while read -r n v; do",
  '  if [ "$n" = gpg-pubkey ]; then echo "ii $n-$v"; else echo "ii $n"; fi',
  'done',
  'if rpm -q --quiet --whatprovides curl; then echo \'ii curl\'; fi',
].join('\n');

// Keys (gpg-pubkey-<v>-<r>) are erased with rpm (dnf does not list them); the packages with dnf.
const EL_REMOVE = [
  'set -e',
  'keys=; pkgs=',
  'for p in "$@"; do case "$p" in gpg-pubkey-*) keys="$keys $p" ;; *) pkgs="$pkgs $p" ;; esac; done',
  'set -- $pkgs',
  'if [ -n "$keys" ]; then rpm -e $keys; fi',
  'if [ $# -eq 0 ]; then exit 0; fi',
  'confs=$(rpm -qc "$@" 2>/dev/null | grep "^/" || true)',
  'dnf -y -q remove "$@"',
  'for c in $confs; do',
  '  rm -f "$c.rpmsave"',
  '  d=$(dirname "$c")',
  '  if [ -d "$d" ] && ! rpm -qf "$d" >/dev/null 2>&1; then rmdir --ignore-fail-on-non-empty "$d"; fi',
  'done',
].join('\n');

export const elFamily: OsFamily = {
  id: 'el',
  repoFile: (repoDir, options) => renderedFile(YUM_REPO_PATH, yumRepoText(repoDir, options.gpgKeys)),
  refresh: () => dnf('makecache'),
  install: (packages) => dnf('--disableexcludes=ferry', 'install', ...packages),
  // dnf has no purge: rpm keeps a %config file that was changed (ferry's containerd, HAProxy and keepalived configs)
  // as <file>.rpmsave, and the directory holding it. Remove those too, as apt's purge does on Debian; a directory
  // that another package still owns stays.
  remove: (packages) => ({ argv: ['sh', '-c', EL_REMOVE, 'sh', ...packages] }),
  // Names as rpm lists them, plus `curl` when any package provides it: EL9's minimal install has curl-minimal, which
  // provides curl and conflicts with the curl package (so `curl` counts as installed and is never asked of dnf).
  // A key dnf imported is listed as gpg-pubkey-<version>-<release> (rpm's name for one key), so reset erases exactly
  // the keys an install added.
  listInstalled: () => ['sh', '-c', EL_LIST],
  // Docker's EL repository ships containerd with runc inside as containerd.io.
  packages: (component) => (component === 'container-runtime' ? ['containerd.io'] : ['haproxy', 'keepalived', 'curl']),
  selinux: true,
};
