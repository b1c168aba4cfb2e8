// STAND-IN RPMs for an EL 9 GPU node, named and versioned as NVIDIA's CUDA repository for RHEL 9
// (developer.download.nvidia.com/compute/cuda/repos/rhel9/x86_64/) and the libnvidia-container RPM repository
// (nvidia.github.io/libnvidia-container/stable/rpm/x86_64/) name theirs, plus the kernel packages of the EL kernel the
// node stands for, as Rocky's AppStream names them. Sources, read 2026-12-07:
// - NVIDIA Driver Installation Guide 620, "Kernel Modules", table "Open GPU kernel module installation"
//   (https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/620/kernel-modules.html): on RHEL/Rocky 8/9
//   a branch is installed with `dnf module enable nvidia-driver:<B>-open` then `dnf install nvidia-open`.
// - NVIDIA/yum-packaging-dkms-nvidia README (https://github.com/NVIDIA/yum-packaging-dkms-nvidia): the open modules'
//   DKMS package is `kmod-nvidia-open-dkms-${version}-${rel}.${dist}.${arch}.rpm` (e.g.
//   kmod-nvidia-open-dkms-515.48.07-1.el9.x86_64.rpm), in the `open-dkms` and `XXX-open` streams.
// - NVIDIA/yum-packaging-nvidia-driver guide-rhel8 (modularity streams `XXX`, `XXX-dkms`, profiles default/ks/fm/src;
//   packages nvidia-driver, nvidia-driver-cuda (nvidia-smi), nvidia-persistenced, kmod-nvidia-open-dkms).
// NOT checked against the repository's metadata (no network): the epoch 3 of NVIDIA's driver RPMs and the exact
// Requires of `nvidia-open` are as remembered; the stream's document carries only the packages below.
//
// What each stand-in does (the scripts are test/stand-ins/nvidia/scripts.ts, strict as there):
// - kmod-nvidia-open-dkms: %posttrans builds nvidia.ko with the node's gcc for every kernel whose build tree is there
//   (/lib/modules/<K>/build), into /lib/modules/<K>/extra/ as EL's dkms installs it; %preun removes it. Requires the
//   real dkms (EPEL) and gcc, but does not register with dkms (as the Debian stand-in).
// - nvidia-driver, nvidia-driver-cuda (nvidia-smi), nvidia-persistenced (daemon and unit), nvidia-open (metapackage).
// - nvidia-container-toolkit (libnvidia-container repo): nvidia-container-runtime and nvidia-ctk.
// - kernel-devel-<K> / kernel-headers-<K> for the EL kernel the node reports (`uname -r`, see elKernelStandIn): a
//   Makefile and include/generated/utsrelease.h under /usr/src/kernels/<K>, /lib/modules/<K>/build pointing there
//   (on EL, kernel-core owns that link: here the node has no EL kernel package), and linux/version.h.
// Built once per content into /var/cache/ferry-test. Test code only: nothing in src/ reaches it.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { buildCachedDir } from '../../../src/lab/file-lock.ts';
import { CACHE_DIR } from '../../../src/lab/rootfs.ts';
import { buildRpm, rpmFileName, type RpmSpec } from '../../../src/replica/rpm-builder.ts';
import { dkmsBuild, MODULE_DIR, nvidiaContainerRuntime, nvidiaCtk, nvidiaPersistenced, nvidiaSmi, PERSISTENCED_UNIT } from './scripts.ts';

/** Bump when the layout below changes. */
const LAYOUT = 2;
const exe = (text: string) => ({ text, mode: 0o755 });
const DKMS_BUILD = 'usr/lib/ferry-stand-in/nvidia-dkms-build';
/** NVIDIA's driver RPMs carry epoch 3 (as remembered; see the header). */
const EPOCH = 3;

export interface NvidiaStandInRpms {
  dir: string;
  /** The CUDA rhel9 repository's RPMs (paths). */
  cuda: string[];
  /** modules.yaml of the CUDA repository: the `nvidia-driver:<B>-open` stream. */
  cudaModules: string;
  /** The libnvidia-container repository's RPMs (paths). */
  nvidiaContainer: string[];
  /** kernel-devel and kernel-headers of each kernel asked for, for Rocky's AppStream (paths). */
  kernel: string[];
}

/** `5.14.0-427.13.1.el9_4.x86_64` → version, release, arch of its kernel packages. */
function kernelNvr(kernel: string): { version: string; release: string } {
  const m = /^([^-]+)-(.+)\.x86_64$/.exec(kernel);
  if (!m) throw new Error(`${kernel} is not an EL x86_64 kernel release`);
  return { version: m[1]!, release: m[2]! };
}

/** The specs for driver `version` (e.g. 620.70.06) on EL `major`, and the EL kernels that get kernel-devel. */
export function nvidiaStandInRpmSpecs(version: string, major: string, kernels: readonly string[]): { cuda: RpmSpec[]; nvidiaContainer: RpmSpec[]; kernel: RpmSpec[]; stream: string } {
  const branch = Number(version.split('.')[0]);
  const rel = { version, release: `1.el${major}`, epoch: EPOCH, license: 'NVIDIA License' };
  const evr = `${EPOCH}:${version}-1.el${major}`;
  const cuda: RpmSpec[] = [
    {
      name: 'kmod-nvidia-open-dkms', ...rel, summary: `STAND-IN NVIDIA ${branch} open kernel module DKMS source`,
      requires: ['dkms', 'gcc', 'make'], provides: [`kmod-nvidia = ${evr}`],
      files: { [DKMS_BUILD]: exe(dkmsBuild(version, MODULE_DIR.el, 'kernel-devel')) },
      // %posttrans, after the whole transaction: kernel-devel may come in the same dnf run, after this package.
      scripts: {
        posttrans: `for b in /lib/modules/*/build; do\n  [ -d "$b" ] || continue\n  k=\${b%/build}; /${DKMS_BUILD} "\${k#/lib/modules/}" || exit 1\ndone`,
        preun: 'if [ $1 -eq 0 ]; then rm -f /lib/modules/*/extra/nvidia.ko; fi',
      },
    },
    { name: 'nvidia-driver', ...rel, summary: 'STAND-IN NVIDIA driver userland (metapackage here)', requires: [`nvidia-persistenced = ${evr}`] },
    { name: 'nvidia-driver-cuda', ...rel, summary: 'STAND-IN nvidia-smi', requires: [`nvidia-driver = ${evr}`], files: { 'usr/bin/nvidia-smi': exe(nvidiaSmi(version, MODULE_DIR.el)) } },
    {
      name: 'nvidia-persistenced', ...rel, summary: 'STAND-IN nvidia-persistenced',
      files: { 'usr/bin/nvidia-persistenced': exe(nvidiaPersistenced()), 'usr/lib/systemd/system/nvidia-persistenced.service': { text: PERSISTENCED_UNIT, mode: 0o644 } },
      scripts: {
        preun: 'if [ $1 -eq 0 ] && [ -d /run/systemd/system ]; then systemctl --no-reload disable --now nvidia-persistenced.service >/dev/null 2>&1 || :; fi',
        postun: 'if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null 2>&1 || :; fi',
      },
    },
    {
      name: 'nvidia-open', ...rel, summary: `STAND-IN NVIDIA ${branch} open kernel modules and driver (metapackage)`,
      requires: [`kmod-nvidia-open-dkms = ${evr}`, `nvidia-driver = ${evr}`, `nvidia-driver-cuda = ${evr}`],
    },
  ];
  const nvidiaContainer: RpmSpec[] = [{
    name: 'nvidia-container-toolkit', version: '1.17.8', release: '1', summary: 'STAND-IN nvidia-container-runtime and nvidia-ctk', license: 'ASL 2.0',
    files: { 'usr/bin/nvidia-container-runtime': exe(nvidiaContainerRuntime()), 'usr/bin/nvidia-ctk': exe(nvidiaCtk()) },
  }];
  const kernel = kernels.flatMap((k): RpmSpec[] => {
    const nvr = kernelNvr(k);
    return [
      {
        name: 'kernel-devel', ...nvr, license: 'GPLv2', summary: `STAND-IN development package for building kernel modules to match the ${k} kernel`,
        files: {
          [`usr/src/kernels/${k}/Makefile`]: { text: `# STAND-IN kernel build tree for ${k}\nKERNELRELEASE = ${k}\n`, mode: 0o644 },
          [`usr/src/kernels/${k}/include/generated/utsrelease.h`]: { text: `#define UTS_RELEASE "${k}"\n`, mode: 0o644 },
        },
        links: { [`lib/modules/${k}/build`]: `/usr/src/kernels/${k}` },
        dirs: [`lib/modules/${k}`],
      },
      {
        name: 'kernel-headers', ...nvr, license: 'GPLv2', summary: `STAND-IN header files for the Linux kernel for use by glibc (${k})`,
        files: { [`usr/include/linux/version.h`]: { text: `/* STAND-IN for ${k} */\n#define LINUX_VERSION_CODE ${versionCode(nvr.version)}\n`, mode: 0o644 } },
      },
    ];
  });
  const nevra = (s: RpmSpec) => `${s.name}-${s.epoch ?? 0}:${s.version}-${s.release}.${s.arch ?? 'x86_64'}`;
  // The stream's document as modulemd v2 (the format of NVIDIA's modules.yaml): the packages of the branch's open
  // DKMS driver; its `default` profile holds `nvidia-open`, and the defaults document makes it the stream's default
  // profile (dnf installs `@module:stream` by the default profile and refuses a stream without one).
  const stream = [
    '---',
    'document: modulemd',
    'version: 2',
    'data:',
    '  name: nvidia-driver',
    `  stream: "${branch}-open"`,
    '  version: 1',
    '  context: "00000000"',
    '  arch: x86_64',
    `  summary: Nvidia driver for ${branch}-open branch (ferry STAND-IN)`,
    '  description: >-',
    `    NVIDIA ${branch} driver with the open kernel modules built by DKMS (ferry STAND-IN).`,
    '  license:',
    '    module:',
    '      - MIT',
    '  profiles:',
    '    default:',
    '      rpms:',
    '        - nvidia-open',
    '  artifacts:',
    '    rpms:',
    ...cuda.map((s) => `      - ${nevra(s)}`).sort(),
    '...',
    // The defaults document: `default` is the stream's default profile (what `@nvidia-driver:<B>-open` installs);
    // no default stream, so nothing of the module is visible until a stream is enabled.
    '---',
    'document: modulemd-defaults',
    'version: 1',
    'data:',
    '  module: nvidia-driver',
    '  profiles:',
    `    "${branch}-open": [default]`,
    '...',
    '',
  ].join('\n');
  return { cuda, nvidiaContainer, kernel, stream };
}

function versionCode(v: string): number {
  const [a = 0, b = 0, c = 0] = v.split('.').map(Number);
  return a * 65536 + b * 256 + Math.min(c, 255);
}

/** Builds (or reuses) the stand-in RPMs. */
export async function nvidiaStandInRpms(version: string, major: string, kernels: readonly string[]): Promise<NvidiaStandInRpms> {
  const specs = nvidiaStandInRpmSpecs(version, major, kernels);
  const key = createHash('sha256').update(JSON.stringify({ LAYOUT, specs })).digest('hex').slice(0, 12);
  const dir = join(CACHE_DIR, `nvidia-stand-in-rpms-${key}`);
  await buildCachedDir(dir, async (work) => {
    for (const s of [...specs.cuda, ...specs.nvidiaContainer, ...specs.kernel]) await buildRpm(s, work);
  });
  const paths = (l: RpmSpec[]) => l.map((s) => join(dir, rpmFileName(s)));
  return { dir, cuda: paths(specs.cuda), cudaModules: specs.stream, nvidiaContainer: paths(specs.nvidiaContainer), kernel: paths(specs.kernel) };
}

/**
 * The EL kernel an EL GPU lab node reports: the lab kernel is this machine's (not an EL build), and ferry rightly
 * refuses a kernel of another OS for an EL lock (src/gpu/kernel-release.ts). This `uname` wraps the real one (moved
 * aside with dpkg-divert) and prints `release` where the real one prints the running kernel's release; every other
 * field is the real one. STAND-IN for the kernel's identity only: docs/lab.md ("EL GPU worker") says what differs.
 */
export function elKernelStandIn(release: string): string {
  return `#!/bin/sh
# STAND-IN: uname with the release of an EL kernel (ferry tests only; test/stand-ins/nvidia/rpms.ts).
real=$(/usr/bin/uname.distrib -r)
/usr/bin/uname.distrib "$@" | sed "s/$real/${release}/"
`;
}
