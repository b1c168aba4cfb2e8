// container-runtime: containerd and runc from the bundle's repository, config.toml for the locked containerd
// version (systemd cgroup driver, sandbox image from the local registry, config_path for mirrors; the hosts.toml
// files under it belong to registry-mirrors), a restart only when the config changed, and a check that the daemon
// answers (`ctr version`).
import { CONTAINERD_CONFIG_PATH } from '../render/containerd.ts';
import type { RenderedFile } from '../render/file.ts';
import { nodeFacts } from './node-facts.ts';
import { pickFamily } from './os/pick.ts';
import { installPackages, missingPackages } from './packages.ts';
import { filesToChange, placeFiles } from './place-files.ts';
import { bundleManifest, checkBundleAgainstLock } from './bundle-manifest.ts';
import { UserError } from '../errors.ts';
import { expectationOf, judgeEffectiveConfig, parseContainerdVersion, parseRuncVersion } from './containerd-effective.ts';
import type { Phase, PhaseContext, PhaseTarget } from './phase.ts';
import { nodeFiles } from './render-inputs.ts';

/** containerd's file for this node: config.toml (certs.d/<registry>/hosts.toml are the registry-mirrors phase's). */
export async function runtimeFiles(target: PhaseTarget, ctx: PhaseContext): Promise<RenderedFile[]> {
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

async function look(target: PhaseTarget, ctx: PhaseContext) {
  const family = pickFamily(target.spec.name, await nodeFacts(target, ctx.state));
  const packages = await runtimePackages(ctx, family.packages('container-runtime'));
  const missing = await missingPackages(target.host, family, packages);
  const active = await target.host.exec(['systemctl', 'is-active', 'containerd'], { readOnly: true, allowFailure: true });
  return { family, packages, missing, active: active.stdout.trim() === 'active' };
}

/**
 * Lock = node: the containerd and runc the node now runs are the lock's, and containerd's effective config (`config
 * dump`, as the daemon loaded it) has what ferry wrote. A dry run's recorded answers are not judged.
 */
async function checkEffective(target: PhaseTarget, ctx: PhaseContext): Promise<void> {
  const { host, spec } = target;
  const lock = ctx.lock;
  const version = await host.exec(['containerd', '--version']);
  const runc = await host.exec(['runc', '--version']);
  const dump = await host.exec(['containerd', 'config', 'dump'], { timeoutMs: 30_000 });
  if (version.recorded || !lock) return;
  const problems: string[] = [];
  const installed = parseContainerdVersion(version.stdout);
  if (installed !== lock.stack.cri.version) problems.push(`containerd ${installed ?? `(unreadable: ${version.stdout.trim()})`} is installed, the lock says ${lock.stack.cri.version}`);
  const runcInstalled = parseRuncVersion(runc.stdout);
  if (runcInstalled !== lock.stack.runc) problems.push(`runc ${runcInstalled ?? `(unreadable: ${runc.stdout.trim()})`} is installed, the lock says ${lock.stack.runc}`);
  const config = (await runtimeFiles(target, ctx)).find((f) => f.path === CONTAINERD_CONFIG_PATH);
  if (config) problems.push(...judgeEffectiveConfig(dump.stdout, expectationOf(config.content)));
  if (problems.length > 0)
    throw new UserError(`${spec.name}: containerd does not run as the lock says:\n    ${problems.join('\n    ')}`, {
      hint: `look at /etc/containerd/config.toml and \`containerd config dump\` on ${spec.name}; a containerd other than the bundle's is installed there, or its config is not the one ferry wrote`,
    });
}

export const containerRuntimePhase: Phase = {
  id: 'container-runtime',
  title: 'containerd and runc from the bundle, configured for Kubernetes',
  undo: 'reset-container-runtime',
  check: (ctx) => checkBundleAgainstLock(ctx, 'container-runtime'),
  targets: (ctx) => ctx.inventory.hosts,
  async isDone(target, ctx) {
    const s = await look(target, ctx);
    return s.missing.length === 0 && s.active && (await filesToChange(target.host, await runtimeFiles(target, ctx))).length === 0;
  },
  async run(target, ctx) {
    const { host } = target;
    const s = await look(target, ctx);
    if (s.missing.length > 0) await installPackages(host, s.family, s.packages, 'container-runtime');
    const changed = await filesToChange(host, await runtimeFiles(target, ctx));
    await placeFiles(host, changed);
    await host.exec(['systemctl', 'enable', 'containerd']);
    if (changed.some((f) => f.path === CONTAINERD_CONFIG_PATH) || !s.active) await host.exec(['systemctl', 'restart', 'containerd']);
    // Checks of what run just did: not marked read-only, so a dry run lists them instead of running them.
    await host.exec(['ctr', 'version'], { timeoutMs: 30_000 });
    await checkEffective(target, ctx);
  },
};
