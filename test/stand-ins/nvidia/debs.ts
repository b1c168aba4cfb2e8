// STAND-IN .debs for a Debian 12 GPU node, named and versioned as NVIDIA's Debian 12 CUDA repository
// (developer.download.nvidia.com/compute/cuda/repos/debian12/x86_64/) and the libnvidia-container repository name
// theirs. NVIDIA publishes no precompiled modules for Debian: the driver is DKMS only (NVIDIA Driver Installation
// Guide, Debian: `apt install nvidia-driver-pinning-<branch>` selects the branch, then `nvidia-open` installs the
// open modules through `nvidia-kernel-open-dkms`; up to branch 580 the repository also has per-branch
// `nvidia-open-<branch>` metapackages):
// - nvidia-driver-pinning-<B> (all): an apt preferences file holding the driver packages on branch B.
// - the open metapackage (nvidia-open-<B> for B <= 580, else nvidia-open): Depends on the three below.
// - nvidia-kernel-open-dkms: the module "source"; its postinst builds nvidia.ko with the node's real gcc for every
//   kernel whose headers are installed (/lib/modules/<K>/build), into /lib/modules/<K>/updates/dkms/ as dkms
//   installs it; a /etc/kernel/header_postinst.d hook builds it for headers installed later; prerm removes it.
//   Unlike the real package it does not register with dkms (Depends on the real dkms all the same).
// - nvidia-smi, nvidia-persistenced: the userland ferry talks to (scripts.ts).
// - nvidia-container-toolkit (libnvidia-container repo): nvidia-container-runtime and nvidia-ctk.
// - linux-headers-<K>, only for a kernel with no Debian headers package (the lab's own kernel): a Makefile and
//   include/generated/utsrelease.h, `/lib/modules/<K>/build` pointing at them, and the postinst a Debian
//   linux-headers package has (run-parts of /etc/kernel/header_postinst.d with the kernel release).
// Built once per content into /var/cache/ferry-test. Test code only: nothing in src/ reaches it.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withFileLock } from '../../../src/lab/file-lock.ts';
import { CACHE_DIR } from '../../../src/lab/rootfs.ts';
import { buildDeb, type DebSpec } from '../deb-builder.ts';
import { dkmsBuild, dkmsHeaderHook, nvidiaContainerRuntime, nvidiaCtk, nvidiaPersistenced, nvidiaSmi, PERSISTENCED_UNIT } from './scripts.ts';

export interface NvidiaStandIns {
  dir: string;
  /** For the CUDA repository: pinning, open metapackage, DKMS module, nvidia-smi, nvidia-persistenced. */
  cuda: string[];
  /** For the libnvidia-container repository: nvidia-container-toolkit. */
  nvidiaContainer: string[];
  /** linux-headers-<K> for each kernel asked for (file names in dir). */
  headers: string[];
  /** Every file, by package name. */
  byName: Record<string, string>;
}

const exe = (text: string) => ({ text, mode: 0o755 });
const DKMS_BUILD = 'usr/lib/ferry-stand-in/nvidia-dkms-build';

/** The open-module metapackage of `branch` in NVIDIA's Debian 12 repository. */
export function openMetapackage(branch: number): string {
  return branch <= 580 ? `nvidia-open-${branch}` : 'nvidia-open';
}

/** The specs for driver `version` (e.g. 620.70.06) and the kernels that get stand-in headers. */
export function nvidiaStandInSpecs(version: string, headerKernels: readonly string[]): { cuda: DebSpec[]; nvidiaContainer: DebSpec[]; headers: DebSpec[] } {
  const branch = Number(version.split('.')[0]);
  const v = `${version}-1`;
  const driverPackages = ['nvidia-kernel-open-dkms', 'nvidia-smi', 'nvidia-persistenced', openMetapackage(branch)];
  return {
    cuda: [
      {
        name: `nvidia-driver-pinning-${branch}`, version: v, architecture: 'all', description: `STAND-IN pins the NVIDIA driver to branch ${branch}`,
        files: { [`etc/apt/preferences.d/nvidia-driver-pinning-${branch}`]: { text: `Package: ${driverPackages.join(' ')}\nPin: version ${branch}.*\nPin-Priority: 1000\n`, mode: 0o644 } },
      },
      { name: openMetapackage(branch), version: v, description: `STAND-IN NVIDIA ${branch} open kernel modules (metapackage)`, depends: driverPackages.filter((p) => p !== openMetapackage(branch)).map((p) => `${p} (= ${v})`), files: {} },
      {
        name: 'nvidia-kernel-open-dkms', version: v, description: 'STAND-IN NVIDIA open kernel module DKMS source', depends: ['dkms', 'gcc'],
        files: { [DKMS_BUILD]: exe(dkmsBuild(version)), 'etc/kernel/header_postinst.d/ferry-stand-in-nvidia': exe(dkmsHeaderHook(`/${DKMS_BUILD}`)) },
        maintainer: {
          postinst: `#!/bin/sh\nset -e\nif [ "$1" = configure ]; then\n  for b in /lib/modules/*/build; do\n    [ -d "$b" ] || continue\n    k=\${b%/build}; /${DKMS_BUILD} "\${k#/lib/modules/}"\n  done\nfi\n`,
          prerm: '#!/bin/sh\nset -e\nrm -f /lib/modules/*/updates/dkms/nvidia.ko\n',
        },
      },
      { name: 'nvidia-smi', version: v, description: 'STAND-IN nvidia-smi', files: { 'usr/bin/nvidia-smi': exe(nvidiaSmi(version)) } },
      {
        name: 'nvidia-persistenced', version: v, description: 'STAND-IN nvidia-persistenced',
        files: { 'usr/bin/nvidia-persistenced': exe(nvidiaPersistenced()), 'lib/systemd/system/nvidia-persistenced.service': { text: PERSISTENCED_UNIT, mode: 0o644 } },
        maintainer: {
          prerm: '#!/bin/sh\nset -e\nif [ -d /run/systemd/system ]; then systemctl stop nvidia-persistenced.service || true; fi\n',
          postrm: '#!/bin/sh\nset -e\nif [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi\n',
        },
      },
    ],
    nvidiaContainer: [
      {
        name: 'nvidia-container-toolkit', version: '1.17.8-1', description: 'STAND-IN nvidia-container-runtime and nvidia-ctk',
        files: { 'usr/bin/nvidia-container-runtime': exe(nvidiaContainerRuntime()), 'usr/bin/nvidia-ctk': exe(nvidiaCtk()) },
      },
    ],
    headers: headerKernels.map((k) => ({
      name: `linux-headers-${k}`, version: `${k.split('-')[0]}-1`, description: `STAND-IN header files for Linux ${k}`,
      files: {
        [`usr/src/linux-headers-${k}/Makefile`]: { text: `# STAND-IN kernel build tree for ${k}\nKERNELRELEASE = ${k}\n`, mode: 0o644 },
        [`usr/src/linux-headers-${k}/include/generated/utsrelease.h`]: { text: `#define UTS_RELEASE "${k}"\n`, mode: 0o644 },
      },
      links: { [`lib/modules/${k}/build`]: `/usr/src/linux-headers-${k}` },
      maintainer: { postinst: `#!/bin/sh\nset -e\nif [ "$1" = configure ] && [ -d /etc/kernel/header_postinst.d ]; then\n  DEB_MAINT_PARAMS="$*" run-parts --report --exit-on-error --arg=${k} /etc/kernel/header_postinst.d\nfi\n` },
    })),
  };
}

/** Builds (or reuses) the stand-in .debs. */
export async function nvidiaStandInDebs(version: string, headerKernels: readonly string[]): Promise<NvidiaStandIns> {
  const specs = nvidiaStandInSpecs(version, headerKernels);
  const key = createHash('sha256').update(JSON.stringify(specs)).digest('hex').slice(0, 12);
  const dir = join(CACHE_DIR, `nvidia-stand-ins-${key}`);
  const file = (s: DebSpec) => `${s.name}_${s.version}_${s.architecture ?? 'amd64'}.deb`;
  const all = [...specs.cuda, ...specs.nvidiaContainer, ...specs.headers];
  const result = {
    dir, cuda: specs.cuda.map(file), nvidiaContainer: specs.nvidiaContainer.map(file), headers: specs.headers.map(file),
    byName: Object.fromEntries(all.map((s) => [s.name, file(s)])),
  };
  if (existsSync(join(dir, '.ferry-complete'))) return result;
  await mkdir(CACHE_DIR, { recursive: true });
  await withFileLock(`${dir}.lock`, async () => {
    if (existsSync(join(dir, '.ferry-complete'))) return;
    const work = `${dir}.tmp-${process.pid}`;
    await rm(work, { recursive: true, force: true });
    await mkdir(work, { recursive: true });
    for (const spec of all) await buildDeb(spec, work);
    await writeFile(join(work, '.ferry-complete'), '');
    await rm(dir, { recursive: true, force: true });
    await rename(work, dir);
  });
  return result;
}
