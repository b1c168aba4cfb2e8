// container-runtime: containerd and runc from the bundle's repository, config.toml for the locked containerd
// version (systemd cgroup driver, sandbox image from the local registry, config_path for mirrors; the hosts.toml
// files under it belong to registry-mirrors), a restart only when the config changed, and a check that the daemon
// answers (`ctr version`) and runs as the lock says: the round after the apply reads the versions and `containerd
// config dump` back, and the plan refuses a node whose containerd does not run with what ferry wrote.
import type { Lock } from '../config/lock.ts';
import { CONTAINERD_CONFIG_PATH } from '../render/containerd.ts';
import type { RenderedFile } from '../render/file.ts';
import { nodeFacts } from './node-facts.ts';
import type { OsFamily } from './os/family.ts';
import { pickFamily } from './os/pick.ts';
import { installStep, missingPackages } from './packages.ts';
import { filesToChange } from './place-files.ts';
import { bundleManifest, checkBundleAgainstLock } from './bundle-manifest.ts';
import { UserError } from '../errors.ts';
import { expectationOf, judgeEffectiveConfig, parseContainerdVersion, parseRuncVersion } from './containerd-effective.ts';
import type { PhaseContext, PhaseTarget, Phase } from './phase.ts';
import { nodeFiles } from './render-inputs.ts';
import { exec, place, type Step } from './step.ts';

export const CONTAINER_RUNTIME_PHASE = 'container-runtime';

/** containerd's file for this node: config.toml (certs.d/<registry>/hosts.toml are the registry-mirrors phase's). */
export async function runtimeFiles(target: Pick<PhaseTarget, 'spec' | 'host'>, ctx: PhaseContext): Promise<RenderedFile[]> {
  const files = nodeFiles(ctx, target.spec.name, await nodeFacts(target, ctx.state));
  return files.filter((f) => f.path === CONTAINERD_CONFIG_PATH);
}

/**
 * The runtime packages the bundle carries: Docker's containerd.io (containerd and runc in one, on every family) when
 * it is there, else the family's own (Debian's containerd and runc).
 */
async function runtimePackages(ctx: PhaseContext, familyDefault: string[]): Promise<string[]> {
  if (!ctx.bundleDir) return familyDefault;
  const carried = (await bundleManifest(ctx)).artifacts.some((a) => a.kind === 'package' && a.name === 'containerd.io');
  return carried ? ['containerd.io'] : familyDefault;
}

/** What the running containerd says about itself (read only while it runs with every package in place). */
export interface RuntimeReadback {
  /** `ctr version`: the daemon answers on its socket; its output when it does not. */
  answers: boolean;
  ctrOutput: string;
  /** `containerd --version`, `runc --version` and `containerd config dump` as printed. */
  containerdVersion: string;
  runcVersion: string;
  dump: string;
}

/** What container-runtime sees on a node. */
export interface RuntimeSeen {
  node: string;
  family: OsFamily;
  /** The runtime packages and those of them not installed. */
  packages: string[];
  missing: string[];
  active: boolean;
  enabled: boolean;
  /** config.toml as ferry renders it for this node, and whether the node's differs. */
  config: RenderedFile | undefined;
  changed: RenderedFile[];
  /** The daemon's own account, when it runs (absent on a node still to be set up, or in a dry run without answers). */
  readback?: RuntimeReadback;
}

/** Every way the running containerd differs from the lock and ferry's config (pure). */
export function runtimeProblems(r: RuntimeReadback, lock: Pick<Lock['stack'], 'cri' | 'runc'>, config: RenderedFile | undefined): string[] {
  if (!r.answers) return [`containerd does not answer on its socket (ctr version: ${r.ctrOutput.trim().split('\n').at(-1) ?? ''})`];
  const problems: string[] = [];
  const installed = parseContainerdVersion(r.containerdVersion);
  if (installed !== lock.cri.version) problems.push(`containerd ${installed ?? `(unreadable: ${r.containerdVersion.trim()})`} is installed, the lock says ${lock.cri.version}`);
  const runc = parseRuncVersion(r.runcVersion);
  if (runc !== lock.runc) problems.push(`runc ${runc ?? `(unreadable: ${r.runcVersion.trim()})`} is installed, the lock says ${lock.runc}`);
  if (config) problems.push(...judgeEffectiveConfig(r.dump, expectationOf(config.content)));
  return problems;
}

/**
 * Packages, config (checked by containerd itself before it is placed), enable, and a restart when the config changed
 * or the daemon is down. Once nothing is left to do, the readback is judged against the lock (lock = node): a
 * containerd that does not run as the lock says is refused, naming the node.
 */
export function planRuntime(s: RuntimeSeen, lock: Pick<Lock['stack'], 'cri' | 'runc'> | undefined): Step[] {
  const steps: Step[] = [];
  if (s.missing.length > 0) steps.push(installStep(s.family, s.packages, CONTAINER_RUNTIME_PHASE));
  steps.push(...place(...s.changed));
  if (!s.enabled) steps.push(exec(['systemctl', 'enable', 'containerd']));
  if (s.changed.some((f) => f.path === CONTAINERD_CONFIG_PATH) || !s.active) steps.push(exec(['systemctl', 'restart', 'containerd']));
  if (steps.length > 0 || !lock || !s.readback) return steps;
  const problems = runtimeProblems(s.readback, lock, s.config);
  if (problems.length > 0)
    throw new UserError(`${s.node}: containerd does not run as the lock says:\n    ${problems.join('\n    ')}`, {
      hint: `look at /etc/containerd/config.toml and \`containerd config dump\` on ${s.node}; a containerd other than the bundle's is installed there, or its config is not the one ferry wrote`,
    });
  return [];
}

export const containerRuntimePhase: Phase<Record<string, unknown>, RuntimeSeen> = {
  id: CONTAINER_RUNTIME_PHASE,
  title: 'containerd and runc from the bundle, configured for Kubernetes',
  undo: 'reset-container-runtime',
  check: (ctx) => checkBundleAgainstLock(ctx, 'container-runtime'),
  targets: (ctx) => ctx.inventory.hosts,
  async observe(target, ctx) {
    const { host } = target;
    const family = pickFamily(target.spec.name, await nodeFacts(target, ctx.state));
    const packages = await runtimePackages(ctx, family.packages('container-runtime'));
    const missing = await missingPackages(host, family, packages);
    const unit = async (verb: string) => (await host.exec(['systemctl', verb, 'containerd'], { allowFailure: true })).stdout.trim();
    const active = (await unit('is-active')) === 'active';
    const enabled = (await unit('is-enabled')) === 'enabled';
    const files = await runtimeFiles(target, ctx);
    const seen: RuntimeSeen = {
      node: target.spec.name, family, packages, missing, active, enabled,
      config: files.find((f) => f.path === CONTAINERD_CONFIG_PATH), changed: await filesToChange(host, files),
    };
    if (!active || missing.length > 0) return seen;
    // The daemon's account of itself: whether it answers, its versions, and its config as it loaded it.
    const ctr = await host.exec(['ctr', 'version'], { allowFailure: true, timeoutMs: 30_000 });
    const version = await host.exec(['containerd', '--version'], { allowFailure: true });
    const runc = await host.exec(['runc', '--version'], { allowFailure: true });
    const dump = await host.exec(['containerd', 'config', 'dump'], { allowFailure: true, timeoutMs: 30_000 });
    // A dry run without a connection only records: its empty answers say nothing about the node.
    if (ctr.recorded) return seen;
    return {
      ...seen,
      readback: { answers: ctr.exitCode === 0, ctrOutput: `${ctr.stdout}${ctr.stderr}`, containerdVersion: version.stdout, runcVersion: runc.stdout, dump: dump.stdout },
    };
  },
  plan: (seen, { ctx }) => planRuntime(seen, ctx.lock?.stack),
};
