// The root filesystem of an EL lab node: the Debian lab base (rootfs.ts) with Debian's real dnf and rpm installed and
// made to own everything ferry installs: /etc/os-release of the target (Rocky Linux 9.4), rpm's database at EL's
// /var/lib/rpm seeded with the target's base set (base-set.ts: provides-only RPMs from a sourced list), EL's dnf.conf
// and repo files, and the shared libraries that stand for the base set's libraries (Debian's, which the rebuilt
// RPMs' binaries link against). Cached under the lab cache dir, keyed by its inputs. docs/lab.md ("EL nodes") lists
// every way such a node differs from a real EL host.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { fetchDebs } from '../debs.ts';
import { withFileLock } from '../file-lock.ts';
import { CACHE_DIR, ensureBaseRootfs } from '../rootfs.ts';
import { baseSetRpms } from './base-set.ts';

/**
 * Debian packages an EL node carries beyond the lab base: dnf and rpm, curl (stands for EL9's curl-minimal, which the
 * base set lists), and the libraries the rebuilt haproxy and keepalived link against (EL's lua-libs, libnl3, ...).
 */
export const EL_NODE_DEBS = [
  'dnf', 'rpm', 'curl', 'liblua5.3-0', 'libopentracing-c-wrapper0', 'libglib2.0-0', 'libmnl0', 'libnftnl11', 'libnl-3-200',
  'libnl-genl-3-200', 'libsnmp40',
] as const;

/** /etc/os-release per release (9.4: as rocky-release-9.4-1.7.el9 installs it at /usr/lib/os-release). */
const OS_RELEASE: Record<string, string> = {
  '9.4': `NAME="Rocky Linux"
VERSION="9.4 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.4"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"
ANSI_COLOR="0;32"
LOGO="fedora-logo-icon"
CPE_NAME="cpe:/o:rocky:rocky:9::baseos"
HOME_URL="https://rockylinux.org/"
BUG_REPORT_URL="https://bugs.rockylinux.org/"
SUPPORT_END="2032-05-31"
ROCKY_SUPPORT_PRODUCT="Rocky-Linux-9"
ROCKY_SUPPORT_PRODUCT_VERSION="9.4"
REDHAT_SUPPORT_PRODUCT="Rocky Linux"
REDHAT_SUPPORT_PRODUCT_VERSION="9.4"
`,
  // Rocky 8.10's, with the fields of the 9.4 one; values as remembered, not re-read from rocky-release-8.10.
  '8.10': `NAME="Rocky Linux"
VERSION="8.10 (Green Obsidian)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="8.10"
PLATFORM_ID="platform:el8"
PRETTY_NAME="Rocky Linux 8.10 (Green Obsidian)"
ANSI_COLOR="0;32"
LOGO="fedora-logo-icon"
CPE_NAME="cpe:/o:rocky:rocky:8:GA"
HOME_URL="https://rockylinux.org/"
BUG_REPORT_URL="https://bugs.rockylinux.org/"
SUPPORT_END="2029-05-31"
ROCKY_SUPPORT_PRODUCT="Rocky-Linux-8"
ROCKY_SUPPORT_PRODUCT_VERSION="8.10"
REDHAT_SUPPORT_PRODUCT="Rocky Linux"
REDHAT_SUPPORT_PRODUCT_VERSION="8.10"
`,
};
/** Each release's code name, for /etc/redhat-release. */
const CODENAME: Record<string, string> = { '9.4': 'Blue Onyx', '8.10': 'Green Obsidian' };
// EL9's /etc/dnf/dnf.conf (dnf-data).
const DNF_CONF = `[main]
gpgcheck=1
installonly_limit=3
clean_requirements_on_remove=True
best=True
skip_if_unavailable=False
`;
// rocky-repos' rocky.repo (BaseOS, AppStream), enabled as on an installed system: the node cannot reach them.
const ROCKY_REPO = (major: string) => ['baseos', 'appstream'].map((id) => {
  const repo = id === 'baseos' ? 'BaseOS' : 'AppStream';
  return `[${id}]\nname=Rocky Linux $releasever - ${repo}\nmirrorlist=https://mirrors.rockylinux.org/mirrorlist?arch=$basearch&repo=${repo}-$releasever$rltype\n#baseurl=http://dl.rockylinux.org/$contentdir/$releasever/${repo}/$basearch/os/\ngpgcheck=1\nenabled=1\ncountme=1\nmetadata_expire=6h\ngpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-Rocky-${major}\n`;
}).join('\n');
// Debian's rpm keeps its database in ~/.rpmdb (so it never shadows dpkg); an EL system's is /var/lib/rpm.
const RPM_MACROS = '# ferry EL lab node: rpm\'s database where EL keeps it (Debian\'s rpm defaults to ~/.rpmdb).\n%_dbpath /var/lib/rpm\n';
// Stands for EL's update-ca-trust (ca-certificates, in the base set): `extract` makes the anchors under
// /etc/pki/ca-trust/source/anchors trusted. The node's TLS clients are Debian builds reading Debian's store, so the
// anchors go there too (update-ca-certificates --fresh), and EL's bundle paths are written from it.
const UPDATE_CA_TRUST = `#!/bin/sh
# ferry EL lab node: stands for EL's update-ca-trust (see docs/lab.md, "EL nodes").
set -e
[ "\${1:-extract}" = extract ] || { echo "update-ca-trust (ferry lab): only 'extract' is supported" >&2; exit 2; }
d=/usr/local/share/ca-certificates/ferry-el-anchors
mkdir -p "$d"
rm -f "$d"/*
for f in /etc/pki/ca-trust/source/anchors/*; do
  [ -f "$f" ] || continue
  b=\$(basename "$f"); cp "$f" "$d/\${b%.*}.crt"
done
update-ca-certificates --fresh >/dev/null 2>&1
mkdir -p /etc/pki/ca-trust/extracted/pem /etc/pki/tls/certs
cp /etc/ssl/certs/ca-certificates.crt /etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem
ln -sf /etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem /etc/pki/tls/certs/ca-bundle.crt
`;
const POLICY_RC_D = '#!/bin/sh\nexit 101\n';

/** The EL node rootfs for `release` (e.g. `9.4`), built when missing (machine-wide lock). */
export async function ensureElRootfs(release: string): Promise<{ dir: string; key: string }> {
  const osRelease = OS_RELEASE[release];
  if (!osRelease) throw new Error(`no EL lab node for release ${release} (have ${Object.keys(OS_RELEASE).join(', ')})`);
  const base = await ensureBaseRootfs();
  const debs = await fetchDebs([...EL_NODE_DEBS]);
  const baseSet = await baseSetRpms(release);
  const major = release.split('.')[0]!;
  const custom = { osRelease, DNF_CONF, repo: ROCKY_REPO(major), RPM_MACROS, UPDATE_CA_TRUST, v: 1 };
  const key = createHash('sha256').update(JSON.stringify({ base: base.key, debs, baseSet: baseSet.dir, custom })).digest('hex').slice(0, 12);
  const dir = join(CACHE_DIR, `el${release}-base-${key}`);
  const done = join(dir, '.ferry-complete');
  if (existsSync(done)) return { dir, key };
  await withFileLock(`${dir}.lock`, async () => {
    if (existsSync(done)) return;
    const tmp = `${dir}.tmp-${process.pid}`;
    await rm(tmp, { recursive: true, force: true });
    await execa('cp', ['-a', base.dir, tmp]);
    await rm(join(tmp, '.ferry-complete'), { force: true });
    // Debian's packages, installed with dpkg in a chroot (no service starts: policy-rc.d says no).
    await mkdir(join(tmp, 'tmp/ferry-debs'), { recursive: true });
    await execa('sh', ['-c', 'cp "$1"/*.deb "$2"/tmp/ferry-debs/', 'sh', debs, tmp]);
    await writeFile(join(tmp, 'usr/sbin/policy-rc.d'), POLICY_RC_D, { mode: 0o755 });
    await execa('chroot', [tmp, 'sh', '-c', 'dpkg -i /tmp/ferry-debs/*.deb'], { env: { DEBIAN_FRONTEND: 'noninteractive', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
    await rm(join(tmp, 'usr/sbin/policy-rc.d'));
    await rm(join(tmp, 'tmp/ferry-debs'), { recursive: true, force: true });
    // The target's identity and dnf's configuration.
    await rm(join(tmp, 'etc/os-release'), { force: true });
    await writeFile(join(tmp, 'etc/os-release'), osRelease);
    await writeFile(join(tmp, 'etc/redhat-release'), `Rocky Linux release ${release} (${CODENAME[release]})\n`);
    await writeFile(join(tmp, 'etc/system-release'), `Rocky Linux release ${release} (${CODENAME[release]})\n`);
    await mkdir(join(tmp, 'etc/rpm'), { recursive: true });
    await writeFile(join(tmp, 'etc/rpm/macros.dbpath'), RPM_MACROS);
    await mkdir(join(tmp, 'etc/dnf'), { recursive: true });
    await writeFile(join(tmp, 'etc/dnf/dnf.conf'), DNF_CONF);
    await mkdir(join(tmp, 'etc/yum.repos.d'), { recursive: true });
    for (const f of await readdir(join(tmp, 'etc/yum.repos.d'))) await rm(join(tmp, 'etc/yum.repos.d', f), { force: true });
    await writeFile(join(tmp, 'etc/yum.repos.d/rocky.repo'), ROCKY_REPO(major));
    await writeFile(join(tmp, 'usr/bin/update-ca-trust'), UPDATE_CA_TRUST, { mode: 0o755 });
    await mkdir(join(tmp, 'etc/pki/ca-trust/source/anchors'), { recursive: true });
    await execa('chroot', [tmp, 'update-ca-trust', 'extract'], { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
    // The base set in rpm's database: provides-only packages, so `rpm -qa` and dnf see a minimal EL install.
    await mkdir(join(tmp, 'var/lib/rpm'), { recursive: true });
    await execa('rpm', ['--root', tmp, '--define', '_dbpath /var/lib/rpm', '-i', '--nodeps', '--nosignature', ...baseSet.files]);
    await writeFile(join(tmp, '.ferry-complete'), `${key}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
  });
  return { dir, key };
}

/** The release of an EL node image from its name in a lab (`rocky-9.4` → `9.4`), or undefined for Debian. */
export function elRelease(os: string | undefined): string | undefined {
  return os ? /^rocky-(\d+\.\d+)$/.exec(os)?.[1] : undefined;
}

