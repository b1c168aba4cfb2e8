// STAND-IN packages: kubeadm, kubelet and kubectl .debs (named and versioned as pkgs.k8s.io names them) that carry
// the Python stand-ins of test/stand-ins/py. Built with dpkg-deb, byte-for-byte reproducible (fixed mtimes, root
// owner), cached under /var/cache/ferry-test by a hash of their content. Test code only: nothing in src/ uses this.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withFileLock } from '../../src/lab/file-lock.ts';
import { CACHE_DIR } from '../../src/lab/rootfs.ts';
import { buildDeb, type DebSpec } from './deb-builder.ts';

const PY = join(dirname(fileURLToPath(import.meta.url)), 'py');
/** Bump when the package layout below changes (the Python sources are hashed anyway). */
const LAYOUT = 5;
const SHARED = ['stand_in.py', 'fields.py'];

// kubelet.service and kubeadm's drop-in, as pkgs.k8s.io's kubelet package installs them
// (/usr/lib/systemd/system/kubelet.service and kubelet.service.d/10-kubeadm.conf; see kubernetes/release,
// cmd/krel/templates/latest/kubelet/kubelet.service and kubeadm/10-kubeadm.conf).
const KUBELET_SERVICE = `[Unit]
Description=kubelet: The Kubernetes Node Agent (ferry STAND-IN)
Documentation=https://kubernetes.io/docs/
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=/usr/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
`;
const KUBEADM_DROP_IN = `# kubeadm's kubelet drop-in (ferry STAND-IN package): flags from kubeadm's files, the same variables as upstream.
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
`;
// Like the real package: the unit is enabled and started at install, and crash-loops until kubeadm writes its config.
const KUBELET_POSTINST = `#!/bin/sh
set -e
if [ "$1" = configure ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable kubelet.service >/dev/null 2>&1
  systemctl start kubelet.service || true
fi
`;
const KUBELET_PRERM = `#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then systemctl stop kubelet.service || true; fi
`;
const KUBELET_POSTRM = `#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
`;

interface PackageSpec {
  name: 'kubeadm' | 'kubelet' | 'kubectl';
  scripts: string[];
  /** Python modules only this package's scripts import (beside SHARED). */
  modules?: string[];
  extra?: Record<string, { text: string; mode: number }>;
  maintainer?: Record<'postinst' | 'prerm' | 'postrm', string>;
  dirs?: string[];
}

const PACKAGES: PackageSpec[] = [
  { name: 'kubeadm', scripts: ['kubeadm'], modules: ['kubeadm_checks.py', 'kubeadm_files.py', 'kubeadm_certs.py', 'kubeadm_day2.py', 'kubeadm_upgrade.py'] },
  {
    name: 'kubelet',
    scripts: ['kubelet', 'kube-apiserver'],
    modules: ['disruption.py', 'kubeadm_upgrade.py'],
    extra: {
      'usr/lib/systemd/system/kubelet.service': { text: KUBELET_SERVICE, mode: 0o644 },
      'usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf': { text: KUBEADM_DROP_IN, mode: 0o644 },
    },
    maintainer: { postinst: KUBELET_POSTINST, prerm: KUBELET_PRERM, postrm: KUBELET_POSTRM },
    dirs: ['etc/kubernetes/manifests'],
  },
  { name: 'kubectl', scripts: ['kubectl'], modules: ['kubectl_drain.py'] },
];

export interface StandInDebs {
  dir: string;
  /** Package version as pkgs.k8s.io writes it: <kubernetes>-1.1. */
  version: string;
  /** File names in `dir`, e.g. kubeadm_1.33.1-1.1_amd64.deb. */
  files: string[];
}

/** The three stand-in .debs for a Kubernetes version (e.g. 1.33.1), built once per content and reused. */
export async function standInDebs(kubernetes: string): Promise<StandInDebs> {
  if (!/^\d+\.\d+\.\d+$/.test(kubernetes)) throw new Error(`kubernetes version must look like 1.33.1, got ${kubernetes}`);
  const version = `${kubernetes}-1.1`;
  const sources = (await readdir(PY)).filter((f) => f !== '__pycache__').sort();
  const hash = createHash('sha256').update(JSON.stringify({ LAYOUT, version, KUBELET_SERVICE, KUBEADM_DROP_IN, KUBELET_POSTINST }));
  for (const f of sources) hash.update(f).update(await readFile(join(PY, f)));
  const dir = join(CACHE_DIR, `stand-in-debs-${hash.digest('hex').slice(0, 12)}`);
  const files = PACKAGES.map((p) => `${p.name}_${version}_amd64.deb`);
  if (existsSync(join(dir, '.ferry-complete'))) return { dir, version, files };
  await mkdir(CACHE_DIR, { recursive: true });
  await withFileLock(`${dir}.lock`, async () => {
    if (existsSync(join(dir, '.ferry-complete'))) return;
    const work = `${dir}.tmp-${process.pid}`;
    await rm(work, { recursive: true, force: true });
    await buildStandInDebs(kubernetes, work);
    await writeFile(join(work, '.ferry-complete'), '');
    await rm(dir, { recursive: true, force: true });
    await rename(work, dir);
  });
  return { dir, version, files };
}

/** Build the three .debs into `out` (no cache): reproducible, so two builds give the same bytes. */
export async function buildStandInDebs(kubernetes: string, out: string): Promise<string[]> {
  const version = `${kubernetes}-1.1`;
  await mkdir(out, { recursive: true });
  for (const spec of PACKAGES) await buildDeb(await debSpec(spec, kubernetes, version), out);
  return PACKAGES.map((p) => join(out, `${p.name}_${version}_amd64.deb`));
}

/** The three stand-ins' package descriptions (as the .debs carry them; test/stand-ins/rpms.ts packs the same as RPMs). */
export async function standInDebSpecs(kubernetes: string): Promise<DebSpec[]> {
  return Promise.all(PACKAGES.map((p) => debSpec(p, kubernetes, `${kubernetes}-1.1`)));
}

/** Hashes of the stand-ins' Python sources (for cache keys of packages made from them). */
export async function standInSourceHash(): Promise<string> {
  const hash = createHash('sha256');
  for (const f of (await readdir(PY)).filter((n) => n !== '__pycache__').sort()) hash.update(f).update(await readFile(join(PY, f)));
  return hash.digest('hex');
}

/** The package description for one stand-in: its scripts and shared modules under /usr/lib/ferry-stand-in/<name>. */
async function debSpec(spec: PackageSpec, kubernetes: string, version: string): Promise<DebSpec> {
  const lib = `usr/lib/ferry-stand-in/${spec.name}`;
  const files: DebSpec['files'] = { [`${lib}/VERSION`]: { text: `${kubernetes}\n`, mode: 0o644 }, ...spec.extra };
  for (const f of [...spec.scripts, ...SHARED, ...(spec.modules ?? [])])
    files[`${lib}/${f}`] = { text: await readFile(join(PY, f), 'utf8'), mode: spec.scripts.includes(f) ? 0o755 : 0o644 };
  return {
    name: spec.name, version, section: 'admin', depends: ['python3', 'python3-yaml', 'openssl'],
    description: `STAND-IN for ${spec.name} ${kubernetes} (ferry tests only, not Kubernetes)`,
    files, links: { [`usr/bin/${spec.name}`]: `../lib/ferry-stand-in/${spec.name}/${spec.name}` },
    ...(spec.dirs ? { dirs: spec.dirs } : {}), ...(spec.maintainer ? { maintainer: spec.maintainer } : {}),
  };
}
