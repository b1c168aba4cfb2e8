// Which way a bundle carries the NVIDIA driver for each GPU node kernel: decided by the package source (the first
// alternative its repositories resolve), recorded in the signed manifest (`gpuDrivers`), and read back by install's
// preflight and gpu-driver phase so both use the decision the build made. Pure but for the caller's resolve.
import { UserError } from '../errors.ts';
import type { Stack } from '../config/lock.ts';
import type { DriverKind } from '../gpu/driver-packages.ts';
import type { Artifact } from './artifact.ts';
import type { BundleManifest } from './manifest.ts';
import { kernelDriverSets, type GpuKernelSet } from './sources/gpu-packages.ts';

export interface GpuDriverChoice {
  kernel: string;
  kind: DriverKind;
  /** The package that exists only for this kernel (precompiled module or headers), as the repository names it. */
  package: string;
}

/** What one resolve attempt said: resolved, or only missing packages (any other failure is thrown by resolve). */
export type Trial<T> = { ok: true; value: T } | { ok: false; missing: string[] };

/**
 * Resolves each kernel's alternatives in order and keeps the first that resolves; each distinct package set is tried
 * once. Fails naming the kernel and what each alternative lacked when none resolves.
 */
export async function resolveGpuSets<T>(sets: readonly GpuKernelSet[], resolve: (packages: string[]) => Promise<Trial<T>>): Promise<T[]> {
  const tried = new Map<string, Trial<T>>();
  const values: T[] = [];
  for (const set of sets) {
    const lacks: string[] = [];
    let chosen = false;
    for (const alt of set.alternatives) {
      const key = alt.packages.join(' ');
      const trial = tried.get(key) ?? (await resolve(alt.packages));
      tried.set(key, trial);
      if (trial.ok) {
        if (!values.includes(trial.value)) values.push(trial.value);
        chosen = true;
        break;
      }
      lacks.push(`${alt.kind}: the repositories have no ${trial.missing.join(', ')}`);
    }
    if (!chosen)
      throw new UserError(`cannot carry the NVIDIA driver for kernel ${set.kernel}: ${lacks.join('; ')}`, {
        hint: `check ${set.kernel} is what \`uname -r\` prints on the GPU node, and that the spec's repositories carry its headers (an older EL minor's kernels are only in the vault: docs/bundle.md "EL minors")`,
      });
  }
  return values;
}

/** Whether a package artifact is the package `spec` names (`name`, or EL's `name-version-release[.arch]`). */
function isPackage(a: Artifact, spec: string): boolean {
  if (a.kind !== 'package' || !a.name) return false;
  if (a.name === spec) return true;
  const version = (a.version ?? '').replace(/^\d+:/, '');
  const vr = `${a.name}-${version}-${a.release ?? ''}`;
  return spec === vr || spec === `${vr}.${a.arch}`;
}

/** The choice per kernel, read from what the build carried: the first alternative whose kernel package is there. */
export function gpuDriverChoices(sets: readonly GpuKernelSet[], artifacts: readonly Artifact[]): GpuDriverChoice[] {
  return sets.flatMap((set) => {
    const alt = set.alternatives.find((a) => artifacts.some((x) => isPackage(x, a.key)));
    return alt ? [{ kernel: set.kernel, kind: alt.kind, package: alt.key }] : [];
  });
}

/**
 * How the bundle carries the driver for `kernel`: its manifest's record, else (a bundle built before the record)
 * what its packages show; undefined when it carries neither a precompiled module nor the headers for it.
 */
export function carriedDriver(manifest: BundleManifest, lock: { stack: Pick<Stack, 'os' | 'nvidiaDriver'> }, kernel: string): GpuDriverChoice | undefined {
  const recorded = manifest.gpuDrivers?.find((c) => c.kernel === kernel);
  if (recorded) return recorded;
  return gpuDriverChoices(kernelDriverSets(lock, [kernel]), manifest.artifacts)[0];
}
