// STAND-IN .debs for a GPU node, named as the real packages (NVIDIA GPU Operator docs, "Installing Precompiled
// and Canonical Signed Drivers on Ubuntu"; packages.ubuntu.com): the precompiled open modules for one exact kernel,
// nvidia-utils (nvidia-smi), nvidia-compute-utils (nvidia-persistenced) and nvidia-container-toolkit. Built once per
// content into /var/cache/ferry-test. Test code only: nothing in src/ reaches it.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withFileLock } from '../../../src/lab/file-lock.ts';
import { CACHE_DIR } from '../../../src/lab/rootfs.ts';
import { buildDeb, type DebSpec } from '../deb-builder.ts';
import { nvidiaContainerRuntime, nvidiaCtk, nvidiaPersistenced, nvidiaSmi, PERSISTENCED_UNIT } from './scripts.ts';

export interface NvidiaStandIns {
  dir: string;
  /** The precompiled module package for the kernel (file name in dir). */
  modules: string;
  /** Userland and toolkit packages (file names in dir). */
  userland: string[];
}

const exe = (text: string) => ({ text, mode: 0o755 });

/** The specs for driver `version` (e.g. 580.82.07) and `kernel` (`uname -r` of the node). */
export function nvidiaStandInSpecs(version: string, kernel: string): { modules: DebSpec; userland: DebSpec[] } {
  const branch = version.split('.')[0]!;
  const pkgVersion = `${version}-0ferry1`;
  return {
    modules: {
      name: `linux-modules-nvidia-${branch}-server-open-${kernel}`, version: pkgVersion,
      description: `STAND-IN NVIDIA ${branch} open kernel modules for ${kernel}`,
      files: { [`lib/modules/${kernel}/kernel/nvidia-${branch}srv/nvidia.ko.stand-in`]: { text: `${version}\n`, mode: 0o644 } },
    },
    userland: [
      { name: `nvidia-utils-${branch}-server`, version: pkgVersion, description: 'STAND-IN nvidia-smi', files: { 'usr/bin/nvidia-smi': exe(nvidiaSmi(version)) } },
      {
        name: `nvidia-compute-utils-${branch}-server`, version: pkgVersion, description: 'STAND-IN nvidia-persistenced',
        files: { 'usr/bin/nvidia-persistenced': exe(nvidiaPersistenced()), 'lib/systemd/system/nvidia-persistenced.service': { text: PERSISTENCED_UNIT, mode: 0o644 } },
        maintainer: {
          prerm: '#!/bin/sh\nset -e\nif [ -d /run/systemd/system ]; then systemctl stop nvidia-persistenced.service || true; fi\n',
          postrm: '#!/bin/sh\nset -e\nif [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi\n',
        },
      },
      {
        name: 'nvidia-container-toolkit', version: '1.17.8-1ferry1', description: 'STAND-IN nvidia-container-runtime and nvidia-ctk',
        files: { 'usr/bin/nvidia-container-runtime': exe(nvidiaContainerRuntime()), 'usr/bin/nvidia-ctk': exe(nvidiaCtk()) },
      },
    ],
  };
}

/** Builds (or reuses) the stand-in .debs. */
export async function nvidiaStandInDebs(version: string, kernel: string): Promise<NvidiaStandIns> {
  const specs = nvidiaStandInSpecs(version, kernel);
  const key = createHash('sha256').update(JSON.stringify(specs)).digest('hex').slice(0, 12);
  const dir = join(CACHE_DIR, `nvidia-stand-ins-${key}`);
  const names = (s: DebSpec) => `${s.name}_${s.version}_amd64.deb`;
  const result = { dir, modules: names(specs.modules), userland: specs.userland.map(names) };
  if (existsSync(join(dir, '.ferry-complete'))) return result;
  await mkdir(CACHE_DIR, { recursive: true });
  await withFileLock(`${dir}.lock`, async () => {
    if (existsSync(join(dir, '.ferry-complete'))) return;
    const work = `${dir}.tmp-${process.pid}`;
    await rm(work, { recursive: true, force: true });
    await mkdir(work, { recursive: true });
    for (const spec of [specs.modules, ...specs.userland]) await buildDeb(spec, work);
    await writeFile(join(work, '.ferry-complete'), '');
    await rm(dir, { recursive: true, force: true });
    await rename(work, dir);
  });
  return result;
}
