// preflight: reach every node and read its facts once for the run (gather.sh: os-release, kernel, machine,
// interfaces and all doctor reads), refusing a node whose OS is not the one the lock was resolved for. Read-only.
// Then, once for the whole cluster, the gate (doctor's checks and probes, src/phases/doctor-gate.ts) may stop the
// install (see docs/install.md).
import { carriedDriver } from '../bundle/gpu-drivers.ts';
import type { BundleManifest } from '../bundle/manifest.ts';
import type { Stack } from '../config/lock.ts';
import { lockOn, lockOsFor } from '../config/lock-os.ts';
import { UserError } from '../errors.ts';
import { bundleManifest } from './bundle-manifest.ts';
import type { NodeFacts } from '../facts/node.ts';
import { nodeFacts } from './node-facts.ts';
import { pickFamily } from './os/pick.ts';
import type { ApplyStage, Phase, PhaseContext, PhaseTarget, PlanInput } from './phase.ts';
import type { Step } from './step.ts';
import { coverageNode, manifestCoverage, osNotCarried, siteCoverage } from '../bundle/site-coverage.ts';

/** True when the node runs the OS (id and major version) the lock was resolved for (one of a lock's OS releases). */
export function matchesLockOs(facts: NodeFacts, lockOs: { id: string; version: string }): boolean {
  const major = (v: string) => v.split('.')[0];
  return facts.os.id === lockOs.id && major(facts.os.versionId) === major(lockOs.version);
}

/**
 * Why a GPU node cannot get the driver from this bundle: its running kernel has neither a precompiled module nor the
 * headers DKMS needs in the bundle. Undefined when it can (or the lock has no NVIDIA driver).
 */
export function gpuKernelRefusal(host: string, kernel: string, lock: { stack: Pick<Stack, 'os' | 'nvidiaDriver'> }, manifest: BundleManifest): UserError | undefined {
  if (lock.stack.nvidiaDriver === null || carriedDriver(manifest, lock, kernel)) return undefined;
  const carried = manifest.gpuDrivers?.map((c) => c.kernel) ?? [];
  return new UserError(
    `${host} runs kernel ${kernel}, and the bundle carries neither a precompiled NVIDIA ${lock.stack.nvidiaDriver.version} driver nor the kernel headers for it` +
      (carried.length ? ` (it carries the driver for ${carried.join(', ')})` : ''),
    { hint: `rebuild the bundle for this kernel: ferry bundle build --lock ferry.lock.yaml --spec SPEC --kernel ${kernel} --out DIR (one --kernel per GPU node kernel)` },
  );
}

/** What preflight sees on a node: its facts (read once per run) and, for a GPU node, the bundle's manifest. */
export interface PreflightSeen {
  facts: NodeFacts;
  /** The bundle's manifest, when the run has a lock and a bundle. */
  manifest?: BundleManifest;
}

/** Nothing to do, or a refusal: an OS ferry does not install on, another OS than the lock's, a GPU kernel the bundle cannot serve. */
export function planPreflight(seen: PreflightSeen, input: Pick<PlanInput<unknown>, 'spec' | 'ctx'>): Step[] {
  const { spec, ctx } = input;
  const { facts } = seen;
  pickFamily(spec.name, facts);
  // The lock (and so the bundle) may carry several OS releases (a mixed cluster): the node needs one of them.
  const stack = ctx.lock?.stack;
  const notCarried = stack && osNotCarried([stack.os, ...(stack.alsoOs ?? []).map((o) => o.os)], { name: spec.name, os: facts.os });
  if (notCarried)
    throw new UserError(`${spec.name} runs ${facts.os.prettyName}, but the lock was resolved for ${[stack.os, ...(stack.alsoOs ?? []).map((o) => o.os)].map((o) => `${o.id} ${o.version}`).join(' and ')}: ${notCarried.fix}`, {
      hint: notCarried.fix,
    });
  // Before any node changes: a GPU node whose kernel the bundle has no driver for would fail in gpu-driver.
  if (ctx.lock && seen.manifest) {
    // Only nodes with role gpu get the driver: another node may run any kernel the lock's OS has. Each node is judged
    // against its own OS's view of the lock (a mixed cluster's bundle carries a repository per OS).
    const own = lockOsFor(ctx.lock.stack, facts.os);
    const refusal = spec.roles.includes('gpu') ? gpuKernelRefusal(spec.name, facts.kernel, own ? lockOn(ctx.lock, own) : ctx.lock, seen.manifest) : undefined;
    if (refusal) throw new UserError(`${refusal.message}: ${refusal.hint}`, { hint: refusal.hint });
    // A bundle built for the site's hosts (--site) covers only what it recorded: the OS minor and arch of each node,
    // and the packages it left out because every node had them.
    if (seen.manifest.site) {
      const problems = siteCoverage(manifestCoverage(seen.manifest, ctx.lock.stack), [coverageNode(spec.name, spec.roles, facts.gathered)]);
      if (problems.length > 0)
        throw new UserError(`the bundle does not cover this node: ${problems.map((p) => p.message).join('; ')}: ${problems[0]!.fix}`, { hint: problems[0]!.fix });
    }
  }
  return [];
}

/**
 * The preflight phase: reads each node's facts once for the whole run (gather.sh, doctor's script: every later
 * phase and the gate use this reading) and refuses what cannot be installed; `gate` runs once over every node after
 * (doctorGate in install: doctor's checks over the facts read here, and its pair probes).
 */
export function preflightPhase(gate?: (targets: readonly PhaseTarget[], ctx: PhaseContext, apply: ApplyStage) => Promise<void>): Phase<Record<string, unknown>, PreflightSeen> {
  return {
    id: 'preflight',
    title: 'reach every node and read its facts',
    // Reset runs it first too: it reaches every node and reads the facts the reset phases need.
    undo: { none: 'it only reads the nodes', first: true },
    targets: (ctx) => ctx.inventory.hosts,
    async observe(target, ctx) {
      const manifest = ctx.lock && ctx.bundleDir ? await bundleManifest(ctx) : undefined;
      // A bundle that left out the packages every node had needs this node's installed list to check it still has them.
      const facts = await nodeFacts(target, ctx.state, { packages: manifest?.site?.installed !== undefined });
      return { facts, ...(manifest ? { manifest } : {}) };
    },
    plan: (seen, input) => planPreflight(seen, input),
    ...(gate ? { afterAll: (targets: readonly PhaseTarget[], ctx: PhaseContext, _params: unknown, apply: ApplyStage) => gate(targets, ctx, apply) } : {}),
  };
}
