// Lock = bundle on the air-gapped side: each install phase that needs a part of the bundle checks it against the
// lock before the first phase runs, so a mismatched bundle stops the run (exit 7) with no command on any node.
import { describe, expect, it } from 'vitest';
import type { BundleManifest } from '../../src/bundle/manifest.ts';
import { PhaseError } from '../../src/errors.ts';
import { containerRuntimePhase } from '../../src/phases/container-runtime.ts';
import { gpuDriverPhase } from '../../src/phases/gpu-driver.ts';
import { kubernetesPackagesPhase } from '../../src/phases/kubernetes-packages.ts';
import { localRegistryPhase } from '../../src/phases/local-registry.ts';
import { osPreparePhase } from '../../src/phases/os-prepare.ts';
import type { AnyPhase, PhaseContext } from '../../src/phases/phase.ts';
import { runPhases } from '../../src/phases/runner.ts';
import { FakeHost } from '../support/fake-host.ts';
import { phaseContext } from './phase-context.ts';

/** os-prepare first (it would change nodes), then the phase under test: nothing may run on any host. */
async function refusal(phase: AnyPhase, change: (ctx: PhaseContext) => void): Promise<PhaseError> {
  const ctx = phaseContext('debian');
  change(ctx);
  const hosts = new Map<string, FakeHost>();
  const error = await runPhases([{ phase: osPreparePhase, params: {} }, { phase, params: {} }], ctx, {
    concurrency: 4,
    hostFor: (name) => hosts.get(name) ?? hosts.set(name, new FakeHost(name, [])).get(name)!,
  }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(PhaseError);
  expect([...hosts.values()].flatMap((h) => h.calls)).toEqual([]);
  return error as PhaseError;
}

const manifestOf = (ctx: PhaseContext) => ctx.state.bundleManifest as BundleManifest;
const without = (ctx: PhaseContext, drop: (a: BundleManifest['artifacts'][number]) => boolean) => {
  manifestOf(ctx).artifacts = manifestOf(ctx).artifacts.filter((a) => !drop(a));
};

describe('install refuses a bundle that does not match its lock, before any node changes', () => {
  it.each<[string, AnyPhase, (ctx: PhaseContext) => void, RegExp]>([
    [
      "the distribution's containerd instead of the lock's",
      containerRuntimePhase,
      (ctx) => {
        const a = manifestOf(ctx).artifacts.find((x) => x.name === 'containerd.io')!;
        Object.assign(a, { name: 'containerd', version: '1.6.20~ds1-1+deb12u3' });
      },
      /phase container-runtime failed on 1 host\(s\):\n {2}admin host: the bundle does not match the lock:\n {2}containerd: the lock wants 1\.7\.28, the bundle has containerd 1\.6\.20~ds1-1\+deb12u3/,
    ],
    ['a CRI-O lock', containerRuntimePhase, (ctx) => void (ctx.lock!.stack.cri = { name: 'cri-o', version: '1.33.13' }), /admin host: ferry cannot install CRI-O yet \(the lock asks for cri-o 1\.33\.13\)/],
    ['no kubelet', kubernetesPackagesPhase, (ctx) => without(ctx, (a) => a.name === 'kubelet'), /phase kubernetes-packages failed.*\n.*\n {2}kubelet: the lock wants 1\.33\.4, the bundle has nothing/],
    ['no registry binary', localRegistryPhase, (ctx) => without(ctx, (a) => a.name === 'registry'), /registry: the lock wants the distribution registry binary, the bundle has nothing/],
    [
      'a driver of another branch',
      gpuDriverPhase,
      (ctx) => void Object.assign(manifestOf(ctx).artifacts.find((a) => a.name?.startsWith('nvidia-open'))!, { version: '570.195.03-1' }),
      /nvidia-driver: the lock wants branch 580, the bundle has nvidia-open-580 570\.195\.03-1/,
    ],
  ])('%s', async (_name, phase, change, message) => {
    const error = await refusal(phase, change);
    expect(error.exitCode).toBe(7);
    expect(error.message).toMatch(message);
  });
});
