// Docker's `containerd.io` package, rebuilt from Debian's real binaries the way Docker lays it out: containerd,
// containerd-shim-runc-v2 and ctr from Debian's containerd of a newer suite (sid: 2.x, Depends libc6 >= 2.34, so it
// runs on bookworm), and runc from bookworm itself (sid's runc needs glibc 2.38, which bookworm does not have, so
// the package carries bookworm's runc 1.1.5 where Docker's carries a current one). Versioned as Docker names its
// bookworm builds: <containerd>-1~debian.12~bookworm.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { upstreamVersion } from '../bundle/lock-match.ts';
import { buildDeb } from './deb-builder.ts';
import { debFields } from './debian-debs.ts';

// /etc/containerd/config.toml as Docker's containerd.io ships it (docker/containerd-packaging, common/containerd.toml):
// the CRI plugin disabled (Docker does not use it; kubeadm sites must enable it), everything else left at defaults.
export const DOCKER_CONFIG_TOML = `# containerd.io default configuration, as Docker ships it (ferry replica).
disabled_plugins = ["cri"]

#root = "/var/lib/containerd"
#state = "/run/containerd"
#subreaper = true
#oom_score = 0

#[grpc]
#  address = "/run/containerd/containerd.sock"
#  uid = 0
#  gid = 0

#[debug]
#  address = "/run/containerd/debug.sock"
#  uid = 0
#  gid = 0
#  level = "info"
`;

// Like debhelper's snippets in Docker's package: enable and start the unit on configure, stop it on removal.
const POSTINST = `#!/bin/sh
set -e
if [ "$1" = configure ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null || true
  systemctl enable containerd.service >/dev/null 2>&1 || true
  systemctl start containerd.service || true
fi
`;
const PRERM = `#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then systemctl stop containerd.service || true; fi
`;
const POSTRM = `#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null || true; fi
`;

export interface ContainerdIo {
  /** File name in the output dir. */
  file: string;
  /** Package version, e.g. 2.1.9-1~debian.12~bookworm. */
  version: string;
  /** containerd's upstream version inside, e.g. 2.1.9. */
  containerd: string;
  /** Debian versions of the two sources. */
  from: { containerd: string; runc: string };
}

/** Build containerd.io into `outDir` from Debian's containerd and runc .debs. */
export async function buildContainerdIo(o: { containerdDeb: string; runcDeb: string; outDir: string }): Promise<ContainerdIo> {
  const work = await mkdtemp(join(o.outDir, '.containerd-io-'));
  try {
    const c = join(work, 'containerd');
    const r = join(work, 'runc');
    await execa('dpkg-deb', ['-x', o.containerdDeb, c]);
    await execa('dpkg-deb', ['-x', o.runcDeb, r]);
    const cv = (await debFields(o.containerdDeb, 'Version')).Version!;
    const rv = (await debFields(o.runcDeb, 'Version')).Version!;
    const containerd = upstreamVersion(cv);
    const version = `${containerd}-1~debian.12~bookworm`;
    const unit = await readFile(join(c, 'usr/lib/systemd/system/containerd.service'), 'utf8').catch(() => readFile(join(c, 'lib/systemd/system/containerd.service'), 'utf8'));
    const exe = (from: string) => ({ from, mode: 0o755 });
    const file = await buildDeb({
      name: 'containerd.io',
      version,
      maintainer: 'Containerd team <help@containerd.io>',
      section: 'devel',
      depends: ['libc6 (>= 2.34)', 'libseccomp2 (>= 2.5.0)'],
      fields: { Provides: 'containerd, runc', Conflicts: 'containerd, runc', Replaces: 'containerd, runc', Homepage: 'https://containerd.io' },
      description: 'An open and reliable container runtime',
      longDescription: [
        'containerd is an industry-standard container runtime.',
        '',
        `ferry replica build: Debian's containerd ${cv} and runc ${rv}, laid out as Docker's containerd.io.`,
      ],
      files: {
        'usr/bin/containerd': exe(join(c, 'usr/bin/containerd')),
        'usr/bin/containerd-shim-runc-v2': exe(join(c, 'usr/bin/containerd-shim-runc-v2')),
        'usr/bin/ctr': exe(join(c, 'usr/bin/ctr')),
        'usr/bin/runc': exe(join(r, 'usr/sbin/runc')),
        'lib/systemd/system/containerd.service': { text: unit, mode: 0o644 },
        'etc/containerd/config.toml': { text: DOCKER_CONFIG_TOML, mode: 0o644 },
        'usr/share/doc/containerd.io/copyright': { from: join(c, 'usr/share/doc/containerd/copyright'), mode: 0o644 },
      },
      conffiles: ['/etc/containerd/config.toml'],
      maintainerScripts: { postinst: POSTINST, prerm: PRERM, postrm: POSTRM },
    }, o.outDir);
    return { file, version, containerd, from: { containerd: cv, runc: rv } };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
