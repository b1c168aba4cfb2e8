// Install phase `registry-mirrors`: on every node, trust ferry's CA (OS trust store and containerd's ca), write a
// hosts.toml for every upstream registry named in the bundle that lists all replicas (so no pull ever leaves the
// site), and pin the bundle's critical images where the containerd version honours pins.
// Used by the install playbook and by `ferry registry deploy|sync`.
import { join } from 'node:path';
import { BundleLayout } from '../bundle/layout.ts';
import { readLayoutPlan } from '../registry/layout-files.ts';
import { containerdHonoursPins, NODE_CA_PATH, replicaEndpoints, trustStorePlan } from '../registry/node-plan.ts';
import { CONTAINERD_CERTS_DIR, renderContainerdHosts } from '../render/containerd-hosts.ts';
import { pinImageArgv } from '../render/containerd.ts';
import type { RenderedFile } from '../render/file.ts';
import type { Phase, PhaseContext } from './phase.ts';
import { RegistryParams, runCa } from './local-registry.ts';
import { LOCAL_REGISTRY } from '../registry/local-name.ts';
import { UserError } from '../errors.ts';
import type { Host } from '../hosts/host.ts';
import { nodeFacts } from './node-facts.ts';
import { pickFamily } from './os/pick.ts';
import { installPackages } from './packages.ts';

async function hostsFiles(ctx: PhaseContext, params: RegistryParams): Promise<{ files: RenderedFile[]; critical: string[] }> {
  if (!ctx.bundleDir) throw new UserError('the registry-mirrors phase needs a bundle', { hint: 'pass --bundle DIR' });
  const plan = await readLayoutPlan(join(ctx.bundleDir, BundleLayout.imagesDir));
  const files = renderContainerdHosts({
    registry: { name: `${LOCAL_REGISTRY.name}:${params.port}`, replicas: replicaEndpoints(ctx.inventory, params.port), caPath: NODE_CA_PATH },
    images: plan.map((p) => p.ref),
  });
  return { files, critical: plan.filter((p) => p.critical).map((p) => p.ref) };
}

/** Whether the node has a curl command (EL 9's curl-minimal counts: no package name is asked for). */
async function hasCurl(host: Host): Promise<boolean> {
  return (await host.exec(['sh', '-c', 'command -v curl'], { readOnly: true, allowFailure: true })).exitCode === 0;
}

export const registryMirrorsPhase: Phase<RegistryParams> = {
  id: 'registry-mirrors',
  title: 'Nodes pull only from the local registry (CA, hosts.toml, pins)',
  undo: 'reset-registry-mirrors',
  params: RegistryParams,
  targets: (ctx) => ctx.inventory.hosts,
  async isDone({ host }, ctx, params) {
    if (!(await hasCurl(host))) return false;
    const ca = await runCa(ctx, params);
    const { files } = await hostsFiles(ctx, params);
    for (const f of [{ path: NODE_CA_PATH, content: ca.certPem }, ...files]) {
      const now = await host.readFile(f.path).catch(() => undefined);
      if (now?.toString('utf8') !== f.content) return false;
    }
    return true;
  },
  async run(target, ctx, params) {
    const { host } = target;
    // `ferry registry status` checks every node's view of the replicas with curl; a minimal Debian node has none.
    if (!(await hasCurl(host))) await installPackages(host, pickFamily(target.spec.name, await nodeFacts(target, ctx.state)), ['curl'], 'registry-mirrors');
    const ca = await runCa(ctx, params);
    const trust = trustStorePlan((await host.readFile('/etc/os-release')).toString('utf8'));
    await host.writeFile(NODE_CA_PATH, ca.certPem, { mode: 0o644 });
    await host.writeFile(trust.anchor, ca.certPem, { mode: 0o644 });
    await host.exec(trust.update);
    const { files, critical } = await hostsFiles(ctx, params);
    await host.exec(['install', '-d', '-m', '0755', CONTAINERD_CERTS_DIR]);
    for (const f of files) await host.writeFile(f.path, f.content, { mode: f.mode });
    const version = await host.exec(['containerd', '--version'], { allowFailure: true, readOnly: true });
    if (version.exitCode !== 0 || !containerdHonoursPins(version.stdout)) return;
    for (const ref of critical) {
      await host.exec(['ctr', '--namespace', 'k8s.io', 'images', 'pull', '--hosts-dir', CONTAINERD_CERTS_DIR, ref]);
      await host.exec(pinImageArgv(ref));
    }
  },
};
