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
import { checkBundleAgainstLock } from './bundle-manifest.ts';
import type { Phase, PhaseContext, PhaseTarget } from './phase.ts';
import { nodeFiles } from './render-inputs.ts';

/** containerd's file for this node: config.toml (certs.d/<registry>/hosts.toml are the registry-mirrors phase's). */
export async function runtimeFiles(target: PhaseTarget, ctx: PhaseContext): Promise<RenderedFile[]> {
  const files = nodeFiles(ctx, target.spec.name, await nodeFacts(target, ctx.state));
  return files.filter((f) => f.path === CONTAINERD_CONFIG_PATH);
}

async function look(target: PhaseTarget, ctx: PhaseContext) {
  const family = pickFamily(target.spec.name, await nodeFacts(target, ctx.state));
  const packages = family.packages('container-runtime');
  const missing = await missingPackages(target.host, family, packages);
  const active = await target.host.exec(['systemctl', 'is-active', 'containerd'], { readOnly: true, allowFailure: true });
  return { family, packages, missing, active: active.stdout.trim() === 'active' };
}

export const containerRuntimePhase: Phase = {
  id: 'container-runtime',
  title: 'containerd and runc from the bundle, configured for Kubernetes',
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
    // A check of what run just did: not marked read-only, so a dry run lists it instead of running it.
    await host.exec(['ctr', 'version'], { timeoutMs: 30_000 });
  },
};
