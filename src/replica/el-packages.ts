// The RPMs of the replica's EL repositories, rebuilt with rpmbuild from Debian's real binaries under the names and
// versions the real EL repositories use: Docker's containerd.io (the same containerd and runc as the replica's .deb),
// and from Rocky's BaseOS/AppStream the packages bundles/gpu-cluster.yaml asks for (haproxy, keepalived,
// conntrack-tools, socat, iptables-nft, ethtool, iproute-tc, chrony). Each carries the binary and the unit or config
// a node needs; the header's Requires name EL capabilities that a minimal EL install provides (src/lab/el/), not the
// binary's Debian sonames (docs/lab.md, "EL nodes", says where this differs from the real packages).
import { lstat, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { upstreamVersion } from '../bundle/lock-match.ts';
import { DOCKER_CONFIG_TOML } from './containerd-io.ts';
import { debFields } from './debian-debs.ts';
import { buildRpm, type RpmSpec } from './rpm-builder.ts';

/** Debian packages whose binaries the distribution RPMs carry (bookworm, with updates and security). */
export const EL_DEBIAN_SOURCES = ['haproxy', 'keepalived', 'conntrack', 'socat', 'ethtool', 'chrony', 'iptables', 'iproute2', 'curl'] as const;

/**
 * Rocky Linux 9.4's versions of the distribution packages, as its BaseOS/AppStream name them (name → version-release,
 * and which repository). Written from the 9.4 package names as published under dl.rockylinux.org/vault/rocky/9.4/;
 * not re-read from the repository's metadata here (no network): see docs/lab.md.
 */
export const ROCKY_9_4_PACKAGES = {
  haproxy: { evr: '2.4.22-3.el9_3', repo: 'AppStream' },
  keepalived: { evr: '2.2.8-3.el9', repo: 'AppStream' },
  'conntrack-tools': { evr: '1.4.7-2.el9', repo: 'AppStream' },
  socat: { evr: '1.7.4.1-5.el9', repo: 'AppStream' },
  'iptables-nft': { evr: '1.8.10-2.el9', repo: 'BaseOS' },
  ethtool: { evr: '2:6.2-1.el9', repo: 'BaseOS' },
  'iproute-tc': { evr: '6.2.0-6.el9_4', repo: 'BaseOS' },
  chrony: { evr: '4.5-1.el9', repo: 'BaseOS' },
  curl: { evr: '7.76.1-29.el9_4', repo: 'BaseOS' },
  'container-selinux': { evr: '3:2.229.0-1.el9', repo: 'AppStream' },
} as const;
export type ElDistroPackage = keyof typeof ROCKY_9_4_PACKAGES;

const exe = (from: string) => ({ from, mode: 0o755 });
const text = (t: string) => ({ text: t, mode: 0o644 });

// The systemd scriptlet macros as they expand on EL (%systemd_post / %systemd_preun / %systemd_postun_with_restart):
// a fresh install only presets the unit (EL's presets leave it disabled), erase stops and disables it.
const systemdScripts = (unit: string): RpmSpec['scripts'] => ({
  post: `if [ $1 -eq 1 ] && [ -d /run/systemd/system ]; then systemctl --no-reload preset ${unit} >/dev/null 2>&1 || :; fi`,
  preun: `if [ $1 -eq 0 ] && [ -d /run/systemd/system ]; then systemctl --no-reload disable --now ${unit} >/dev/null 2>&1 || :; fi`,
  postun: `if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null 2>&1 || :; fi\nif [ $1 -ge 1 ] && [ -d /run/systemd/system ]; then systemctl try-restart ${unit} >/dev/null 2>&1 || :; fi`,
});

// EL9's haproxy.service (haproxy.spec in Rocky's AppStream): the config test before start, -Ws master-worker mode.
const HAPROXY_SERVICE = `[Unit]
Description=HAProxy Load Balancer
After=network-online.target
Wants=network-online.target

[Service]
EnvironmentFile=-/etc/sysconfig/haproxy
Environment="CONFIG=/etc/haproxy/haproxy.cfg" "PIDFILE=/run/haproxy.pid" "CFGDIR=/etc/haproxy/conf.d"
ExecStartPre=/usr/sbin/haproxy -f $CONFIG -f $CFGDIR -c -q $OPTIONS
ExecStart=/usr/sbin/haproxy -Ws -f $CONFIG -f $CFGDIR -p $PIDFILE $OPTIONS
ExecReload=/usr/sbin/haproxy -f $CONFIG -f $CFGDIR -c -q $OPTIONS
ExecReload=/bin/kill -USR2 $MAINPID
KillMode=mixed
SuccessExitStatus=143
Type=notify

[Install]
WantedBy=multi-user.target
`;
const HAPROXY_CFG = `# haproxy.cfg as the EL package ships it (trimmed): replaced by the site's configuration.
global
    log         127.0.0.1 local2
    chroot      /var/lib/haproxy
    pidfile     /var/run/haproxy.pid
    maxconn     4000
    user        haproxy
    group       haproxy
    daemon

defaults
    mode                    http
    timeout connect         10s
    timeout client          1m
    timeout server          1m
`;
// EL9's keepalived.service: forking, options from /etc/sysconfig/keepalived.
const KEEPALIVED_SERVICE = `[Unit]
Description=LVS and VRRP High Availability Monitor
After=network-online.target syslog.target
Wants=network-online.target

[Service]
Type=forking
PIDFile=/run/keepalived.pid
KillMode=process
EnvironmentFile=-/etc/sysconfig/keepalived
ExecStart=/usr/sbin/keepalived $KEEPALIVED_OPTIONS
ExecReload=/bin/kill -HUP $MAINPID

[Install]
WantedBy=multi-user.target
`;
const CHRONYD_SERVICE = `[Unit]
Description=NTP client/server
After=network.target

[Service]
Type=forking
PIDFile=/run/chrony/chronyd.pid
ExecStart=/usr/sbin/chronyd $OPTIONS

[Install]
WantedBy=multi-user.target
`;

function evrOf(evr: string): { epoch?: number; version: string; release: string } {
  const m = /^(?:(\d+):)?([^-]+)-(.+)$/.exec(evr);
  if (!m) throw new Error(`not an EVR: ${evr}`);
  return { ...(m[1] ? { epoch: Number(m[1]) } : {}), version: m[2]!, release: m[3]! };
}

/** The distribution packages (name → spec), their binaries from the extracted Debian packages in `x(<deb name>)`. */
function distroSpecs(x: (deb: string) => string, debVersion: (deb: string) => string): Record<ElDistroPackage, RpmSpec> {
  const from = (deb: string) => `Debian's ${deb} ${debVersion(deb)}`;
  const base = (name: ElDistroPackage, summary: string, deb: string): RpmSpec => ({
    name, ...evrOf(ROCKY_9_4_PACKAGES[name].evr), summary, license: 'GPLv2+',
    description: `${summary}\n\nferry replica build: the binaries of ${from(deb)}, packaged under Rocky Linux 9.4's name and version.`,
  });
  return {
    haproxy: {
      ...base('haproxy', 'HAProxy reverse proxy for high availability environments', 'haproxy'),
      requires: ['systemd', 'openssl-libs', 'pcre2', 'lua-libs', 'shadow-utils'],
      files: {
        'usr/sbin/haproxy': exe(join(x('haproxy'), 'usr/sbin/haproxy')),
        'usr/lib/systemd/system/haproxy.service': text(HAPROXY_SERVICE),
        'etc/haproxy/haproxy.cfg': text(HAPROXY_CFG),
        'etc/sysconfig/haproxy': text('# Add extra options to the haproxy daemon here.\nOPTIONS=""\n'),
      },
      dirs: ['etc/haproxy', 'etc/haproxy/conf.d', 'var/lib/haproxy'],
      configs: ['etc/haproxy/haproxy.cfg', 'etc/sysconfig/haproxy'],
      // As haproxy.spec: the system user stays after the package is erased.
      scripts: {
        pre: 'getent group haproxy >/dev/null || groupadd -r haproxy\ngetent passwd haproxy >/dev/null || useradd -r -g haproxy -d /var/lib/haproxy -s /sbin/nologin -c "haproxy" haproxy\nexit 0',
        ...systemdScripts('haproxy.service'),
      },
    },
    keepalived: {
      ...base('keepalived', 'High Availability monitor built upon LVS, VRRP and service pollers', 'keepalived'),
      requires: ['systemd', 'openssl-libs', 'libnl3'],
      files: {
        'usr/sbin/keepalived': exe(join(x('keepalived'), 'usr/sbin/keepalived')),
        'usr/lib/systemd/system/keepalived.service': text(KEEPALIVED_SERVICE),
        'etc/keepalived/keepalived.conf': text('! keepalived.conf as the EL package ships it (trimmed): replaced by the site\'s configuration.\nglobal_defs {\n   router_id LVS_DEVEL\n}\n'),
        'etc/sysconfig/keepalived': text('# Options for keepalived. See `keepalived --help\' output and keepalived(8).\nKEEPALIVED_OPTIONS="-D"\n'),
      },
      links: { 'usr/bin/genhash': '../sbin/keepalived' },
      dirs: ['etc/keepalived'],
      configs: ['etc/keepalived/keepalived.conf', 'etc/sysconfig/keepalived'],
      scripts: systemdScripts('keepalived.service'),
    },
    'conntrack-tools': {
      ...base('conntrack-tools', 'Manipulate netfilter connection tracking table and run High Availability', 'conntrack'),
      requires: ['libnetfilter_conntrack', 'libmnl'],
      files: { 'usr/sbin/conntrack': exe(join(x('conntrack'), 'usr/sbin/conntrack')) },
    },
    socat: {
      ...base('socat', 'Bidirectional data relay between two data channels (\'netcat++\')', 'socat'),
      requires: ['openssl-libs', 'readline'],
      files: { 'usr/bin/socat': exe(join(x('socat'), 'usr/bin/socat')) },
    },
    'iptables-nft': {
      ...base('iptables-nft', 'nftables compatibility for iptables, arptables and ebtables', 'iptables'),
      requires: ['iptables-libs', 'libnftnl', 'libmnl'],
      files: { 'usr/sbin/xtables-nft-multi': exe(join(x('iptables'), 'usr/sbin/xtables-nft-multi')) },
      links: Object.fromEntries(['iptables-nft', 'iptables-nft-restore', 'iptables-nft-save', 'ip6tables-nft', 'ip6tables-nft-restore', 'ip6tables-nft-save', 'ebtables-nft', 'arptables-nft']
        .map((l) => [`usr/sbin/${l}`, 'xtables-nft-multi'])),
    },
    ethtool: {
      ...base('ethtool', 'Settings tool for Ethernet NICs', 'ethtool'),
      requires: ['libmnl'],
      files: { 'usr/sbin/ethtool': exe(join(x('ethtool'), 'sbin/ethtool')) },
    },
    'iproute-tc': {
      ...base('iproute-tc', 'Linux Traffic Control utility', 'iproute2'),
      requires: ['iproute', 'libmnl'],
      files: { 'usr/sbin/tc': exe(join(x('iproute2'), 'sbin/tc')) },
    },
    // The full curl beside the curl-minimal a minimal install has (src/lab/el/): they conflict, as on EL9.
    curl: {
      ...base('curl', 'A utility for getting files from remote servers (FTP, HTTP, and others)', 'curl'),
      requires: ['libcurl'],
      conflicts: ['curl-minimal'],
      files: { 'usr/bin/curl': exe(join(x('curl'), 'usr/bin/curl')) },
    },
    chrony: {
      ...base('chrony', 'An NTP client/server', 'chrony'),
      requires: ['systemd', 'libcap', 'libseccomp', 'shadow-utils'],
      files: {
        'usr/sbin/chronyd': exe(join(x('chrony'), 'usr/sbin/chronyd')),
        'usr/bin/chronyc': exe(join(x('chrony'), 'usr/bin/chronyc')),
        'usr/lib/systemd/system/chronyd.service': text(CHRONYD_SERVICE),
        'etc/chrony.conf': text('# chrony.conf as the EL package ships it (trimmed)\npool 2.rocky.pool.ntp.org iburst\ndriftfile /var/lib/chrony/drift\nmakestep 1.0 3\nrtcsync\n'),
      },
      configs: ['etc/chrony.conf'],
      scripts: systemdScripts('chronyd.service'),
    },
    // The SELinux policy for container runtimes (every EL bundle of the shipped spec carries it). The lab kernel has
    // no SELinux, so there is no policy to carry: an empty noarch package under the real name and version.
    'container-selinux': {
      name: 'container-selinux', ...evrOf(ROCKY_9_4_PACKAGES['container-selinux'].evr), arch: 'noarch', license: 'GPLv2',
      summary: 'SELinux policies for container runtimes',
      description: 'SELinux policies for container runtimes\n\nferry replica build: empty (the lab kernel has no SELinux), under Rocky Linux 9.4\'s name and version.',
      requires: [],
    },
  };
}

export interface BuiltElPackages {
  /** containerd.io's RPM (file path) and version-release, e.g. 2.1.9-3.1.el9. */
  containerdIo: { file: string; version: string };
  /** The distribution RPMs: name → file path. */
  distro: Record<ElDistroPackage, string>;
}

/** Build containerd.io for EL `major` and the distribution packages into `outDir` from the Debian .debs. */
export async function buildElPackages(o: { major: string; debs: Record<string, string>; outDir: string }): Promise<BuiltElPackages> {
  const work = await mkdtemp(join(o.outDir, '.el-'));
  try {
    const extracted: Record<string, string> = {};
    for (const [name, deb] of Object.entries(o.debs)) {
      extracted[name] = join(work, name);
      await execa('dpkg-deb', ['-x', deb, extracted[name]]);
    }
    const x = (deb: string) => {
      const dir = extracted[deb];
      if (!dir) throw new Error(`no Debian ${deb} .deb given to the EL package build`);
      return dir;
    };
    const versions: Record<string, string> = {};
    for (const [name, deb] of Object.entries(o.debs)) versions[name] = (await debFields(deb, 'Version')).Version!;

    // Docker's containerd.io for EL: <containerd>-3.1.el<major>, containerd + runc, Provides/Obsoletes containerd and
    // runc, as Docker's containerd.io.spec (docker/containerd-packaging, rpm/containerd.spec).
    const c = x('containerd');
    const containerd = upstreamVersion(versions.containerd!);
    const unit = await readFile(join(c, 'usr/lib/systemd/system/containerd.service'), 'utf8').catch(() => readFile(join(c, 'lib/systemd/system/containerd.service'), 'utf8'));
    const cio: RpmSpec = {
      name: 'containerd.io', version: containerd, release: `3.1.el${o.major}`, summary: 'An industry-standard container runtime',
      url: 'https://containerd.io', license: 'ASL 2.0',
      description: `containerd is an industry-standard container runtime.\n\nferry replica build: Debian's containerd ${versions.containerd} and runc ${versions.runc}, laid out as Docker's containerd.io.`,
      requires: ['libseccomp', 'systemd'],
      provides: ['containerd', 'runc'],
      conflicts: ['containerd', 'runc'],
      obsoletes: ['containerd', 'runc'],
      files: {
        'usr/bin/containerd': exe(join(c, 'usr/bin/containerd')),
        'usr/bin/containerd-shim-runc-v2': exe(join(c, 'usr/bin/containerd-shim-runc-v2')),
        'usr/bin/ctr': exe(join(c, 'usr/bin/ctr')),
        'usr/bin/runc': exe(join(x('runc'), 'usr/sbin/runc')),
        'usr/lib/systemd/system/containerd.service': text(unit),
        'etc/containerd/config.toml': text(DOCKER_CONFIG_TOML),
      },
      configs: ['etc/containerd/config.toml'],
      scripts: systemdScripts('containerd.service'),
    };
    const containerdIo = join(o.outDir, await buildRpm(cio, o.outDir));
    const specs = distroSpecs(x, (d) => versions[d] ?? '?');
    const distro = {} as Record<ElDistroPackage, string>;
    for (const [name, spec] of Object.entries(specs) as [ElDistroPackage, RpmSpec][]) distro[name] = join(o.outDir, await buildRpm(spec, o.outDir));
    return { containerdIo: { file: containerdIo, version: `${containerd}-3.1.el${o.major}` }, distro };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Debian packages whose files the EL GPU build tools carry (bookworm): gcc with what `gcc -c` runs (cc1, the
 * assembler and their libraries), make, dkms, libelf's headers.
 */
export const EL_GPU_DEBIAN_SOURCES = [
  'gcc-12', 'cpp-12', 'binutils-x86-64-linux-gnu', 'libbinutils', 'libctf0', 'libctf-nobfd0', 'libisl23', 'libmpc3', 'libmpfr6',
  'make', 'dkms', 'libelf-dev',
] as const;

/**
 * Rocky Linux 9.4's and EPEL 9's names and versions of what a DKMS driver build needs (NVIDIA Driver Installation
 * Guide, "Red Hat Enterprise Linux": kernel-devel and kernel-headers of the running kernel, gcc, make, dkms from
 * EPEL, elfutils-libelf-devel). Repositories as Rocky 9 places them (gcc, kernel-devel, elfutils-libelf-devel in
 * AppStream; make in BaseOS); versions as remembered, NOT checked against the repository metadata (docs/lab.md).
 */
export const EL_GPU_TOOL_PACKAGES = {
  gcc: { evr: '11.4.1-3.el9', repo: 'AppStream' },
  make: { evr: '1:4.3-8.el9', repo: 'BaseOS' },
  'elfutils-libelf-devel': { evr: '0.190-2.el9', repo: 'AppStream' },
  dkms: { evr: '3.0.13-1.el9', repo: 'EPEL' },
} as const;
export type ElGpuTool = keyof typeof EL_GPU_TOOL_PACKAGES;

/** Every file and link of an extracted .deb tree, minus documentation and `skip`, with /lib, /bin, /sbin under /usr. */
async function treeEntries(root: string, skip: (path: string) => boolean): Promise<Pick<RpmSpec, 'files' | 'links'>> {
  const files: NonNullable<RpmSpec['files']> = {};
  const links: NonNullable<RpmSpec['links']> = {};
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    const abs = join(entry.parentPath, entry.name);
    const rel = relative(root, abs).replace(/^(lib|bin|sbin)\//, 'usr/$1/');
    if (/^usr\/share\/(doc|man|info|locale|lintian|bug|bash-completion)\//.test(rel) || skip(rel)) continue;
    if (entry.isSymbolicLink()) links[rel] = await readlink(abs);
    else if (entry.isFile()) files[rel] = { from: abs, mode: (await lstat(abs)).mode & 0o7777 };
  }
  return { files, links };
}

/**
 * gcc, make, elfutils-libelf-devel and dkms for EL `major` from the Debian .debs (EL_GPU_DEBIAN_SOURCES), under the
 * names and versions of EL_GPU_TOOL_PACKAGES: real tools, so a DKMS build on an EL lab node compiles with them.
 */
export async function buildElGpuTools(o: { debs: Record<string, string>; outDir: string }): Promise<Record<ElGpuTool, string>> {
  const work = await mkdtemp(join(o.outDir, '.el-gpu-'));
  try {
    const extract = async (names: readonly string[], into: string) => {
      for (const n of names) {
        const deb = o.debs[n];
        if (!deb) throw new Error(`no Debian ${n} .deb given to the EL GPU tools build`);
        await execa('dpkg-deb', ['-x', deb, into]);
      }
    };
    const from = (names: readonly string[]) => `Debian bookworm's ${names.join(', ')}`;
    const spec = (name: ElGpuTool, summary: string, debs: readonly string[], entries: Pick<RpmSpec, 'files' | 'links'>, extra: Partial<RpmSpec> = {}): RpmSpec => ({
      name, ...evrOf(EL_GPU_TOOL_PACKAGES[name].evr), summary, license: 'GPLv3+',
      description: `${summary}\n\nferry replica build: the files of ${from(debs)}, packaged under ${name === 'dkms' ? 'EPEL 9' : 'Rocky Linux 9.4'}'s name and version.`,
      ...entries, ...extra,
    });
    const gccDebs = ['gcc-12', 'cpp-12', 'binutils-x86-64-linux-gnu', 'libbinutils', 'libctf0', 'libctf-nobfd0', 'libisl23', 'libmpc3', 'libmpfr6'] as const;
    await extract(gccDebs, join(work, 'gcc'));
    // The link-time optimizer is not needed to compile; it is most of gcc-12's size.
    const gcc = await treeEntries(join(work, 'gcc'), (p) => /\/(lto1|lto-dump[^/]*|lto-wrapper)$/.test(p));
    gcc.links = { ...gcc.links, 'usr/bin/gcc': 'gcc-12', 'usr/bin/cc': 'gcc-12', 'usr/bin/cpp': 'cpp-12', 'usr/bin/as': 'x86_64-linux-gnu-as' };
    await extract(['make'], join(work, 'make'));
    await extract(['libelf-dev'], join(work, 'libelf'));
    await extract(['dkms'], join(work, 'dkms'));
    const dkms = await treeEntries(join(work, 'dkms'), () => false);
    const specs: Record<ElGpuTool, RpmSpec> = {
      gcc: spec('gcc', 'Various compilers (C, C++, Objective-C, ...)', gccDebs, gcc),
      make: spec('make', 'A GNU tool which simplifies the build process for users', ['make'], await treeEntries(join(work, 'make'), () => false)),
      'elfutils-libelf-devel': spec('elfutils-libelf-devel', 'Development support for libelf', ['libelf-dev'], await treeEntries(join(work, 'libelf'), () => false)),
      dkms: spec('dkms', 'Dynamic Kernel Module Support Framework', ['dkms'], dkms, {
        // EPEL's dkms also requires kmod, cpio, elfutils-libelf-devel and the like; the lab's base set lacks some, and
        // Debian's files are what runs: gcc and make, which the build needs, are kept.
        arch: 'noarch', requires: ['gcc', 'make'],
        configs: Object.keys(dkms.files ?? {}).filter((p) => p.startsWith('etc/dkms/')),
        dirs: ['var/lib/dkms'],
      }),
    };
    const out = {} as Record<ElGpuTool, string>;
    for (const [name, s] of Object.entries(specs) as [ElGpuTool, RpmSpec][]) out[name] = join(o.outDir, await buildRpm(s, o.outDir));
    return out;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
