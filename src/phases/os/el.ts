// Enterprise Linux (RHEL, Rocky, Alma 8/9 share this base): dnf with a `file://` repository from the bundle,
// every other repository disabled for ferry's installs, module_hotfixes so modular filtering cannot hide a
// bundled package (EL8 AppStream modules), SELinux present.
import { renderedFile } from '../../render/file.ts';
import type { FamilyCommand, OsFamily } from './family.ts';

export const YUM_REPO_PATH = '/etc/yum.repos.d/ferry.repo';

const ONLY_FERRY = ['--disablerepo=*', '--enablerepo=ferry'];
const dnf = (...args: string[]): FamilyCommand => ({ argv: ['dnf', '-y', '-q', ...ONLY_FERRY, ...args] });

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
    'skip_if_unavailable=0',
  ];
  return `${lines.join('\n')}\n`;
}

export const elFamily: OsFamily = {
  id: 'el',
  repoFile: (repoDir, options) => renderedFile(YUM_REPO_PATH, yumRepoText(repoDir, options.gpgKeys)),
  refresh: () => dnf('makecache'),
  install: (packages) => dnf('install', ...packages),
  remove: (packages) => ({ argv: ['dnf', '-y', '-q', 'remove', ...packages] }),
  listInstalled: () => ['rpm', '-qa', '--qf', 'ii %{NAME}\n'],
  // Docker's EL repository ships containerd with runc inside as containerd.io.
  packages: (component) => (component === 'container-runtime' ? ['containerd.io'] : ['haproxy', 'keepalived', 'curl']),
  selinux: true,
};
