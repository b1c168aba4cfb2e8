// Debian and Ubuntu: apt with a flat `file:` repository from the bundle, used with every other source turned off.
import { renderedFile } from '../../render/file.ts';
import type { FamilyCommand, OsFamily } from './family.ts';

export const APT_LIST_PATH = '/etc/apt/sources.list.d/ferry.list';

// Only ferry.list is read (sourceparts off), and lists of other sources are kept (no cleanup), so an install
// never reaches for a mirror the node cannot see and never forgets the site's own sources.
const ONLY_FERRY = ['-o', `Dir::Etc::sourcelist=${APT_LIST_PATH}`, '-o', 'Dir::Etc::sourceparts=-', '-o', 'APT::Get::List-Cleanup=0'];
const QUIET = { DEBIAN_FRONTEND: 'noninteractive' };

const apt = (...args: string[]): FamilyCommand => ({ argv: ['apt-get', '-q', '-y', ...ONLY_FERRY, ...args], env: QUIET });

export const debianFamily: OsFamily = {
  id: 'debian',
  repoFile(repoDir, options) {
    // A flat repo (Packages at its root, `./` as the suite). The bundle's signature covers every file, so apt
    // may trust the repo; a keyring in the repo dir is used when the bundle carries one.
    const trust = options.gpgKeys.length > 0 ? `signed-by=${repoDir}/${options.gpgKeys[0]}` : 'trusted=yes';
    return renderedFile(APT_LIST_PATH, `# Written by ferry: the bundle's packages, offline.\ndeb [${trust}] file:${repoDir} ./\n`);
  },
  refresh: () => apt('update'),
  install: (packages) => apt('install', '--no-install-recommends', ...packages),
  remove: (packages) => apt('purge', ...packages),
  listInstalled: () => ['dpkg-query', '-W', '-f', '${db:Status-Abbrev} ${Package}\n'],
  // curl runs keepalived's API health check (render/keepalived.ts).
  packages: (component) => (component === 'container-runtime' ? ['containerd', 'runc'] : ['haproxy', 'keepalived', 'curl']),
  selinux: false,
};
