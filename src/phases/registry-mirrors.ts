// Install phase `registry-mirrors`: on every node, trust ferry's CA (OS trust store and containerd's ca), write a
// hosts.toml for every upstream registry named in the bundle that lists all replicas (so no pull ever leaves the
// site), and pin the bundle's critical images where the containerd version honours pins.
// Used by the install playbook and by `ferry registry deploy|sync`.
import { join } from 'node:path';
import { BundleLayout } from '../bundle/layout.ts';
import { readLayoutPlan } from '../registry/layout-files.ts';
import { containerdHonoursPins, NODE_CA_PATH, replicaEndpoints, trustStorePlan, type TrustStorePlan } from '../registry/node-plan.ts';
import { CONTAINERD_CERTS_DIR, renderContainerdHosts } from '../render/containerd-hosts.ts';
import { pinImageArgv } from '../render/containerd.ts';
import { renderedFile, type RenderedFile } from '../render/file.ts';
import type { PhaseContext, Phase } from './phase.ts';
import { RegistryParams, registryCaDir } from './local-registry.ts';
import { LOCAL_REGISTRY } from '../registry/local-name.ts';
import { UserError } from '../errors.ts';
import type { Host } from '../hosts/host.ts';
import { nodeFacts } from './node-facts.ts';
import type { OsFamily } from './os/family.ts';
import { pickFamily } from './os/pick.ts';
import { installStep } from './packages.ts';
import { filesToChange } from './place-files.ts';
import { memo } from './run-state.ts';
import { exec, type Step } from './step.ts';

export const REGISTRY_MIRRORS_PHASE = 'registry-mirrors';

/** The hosts.toml files for every upstream in the bundle, and the critical images to pin (read once per run). */
function hostsFiles(admin: Host, ctx: PhaseContext, params: RegistryParams): Promise<{ files: RenderedFile[]; critical: string[] }> {
  return memo(ctx.state, `${REGISTRY_MIRRORS_PHASE}:${params.port}`, async () => {
    if (!ctx.bundleDir) throw new UserError('the registry-mirrors phase needs a bundle', { hint: 'pass --bundle DIR' });
    const plan = await readLayoutPlan(join(ctx.bundleDir, BundleLayout.imagesDir), admin);
    const files = renderContainerdHosts({
      registry: { name: `${LOCAL_REGISTRY.name}:${params.port}`, replicas: replicaEndpoints(ctx.inventory, params.port), caPath: NODE_CA_PATH },
      images: plan.map((p) => p.ref),
    });
    return { files, critical: plan.filter((p) => p.critical).map((p) => p.ref) };
  });
}

/** Whether the node has a curl command (EL 9's curl-minimal counts: no package name is asked for). */
async function hasCurl(host: Host): Promise<boolean> {
  return (await host.exec(['sh', '-c', 'command -v curl'], { allowFailure: true })).exitCode === 0;
}

/** What registry-mirrors sees on a node. */
export interface MirrorsSeen {
  family: OsFamily;
  /** `ferry registry status` checks every node's view of the replicas with curl; a minimal Debian node has none. */
  curl: boolean;
  /** The registry CA on the admin host (its path, and its PEM unless an earlier step of a dry run only planned it). */
  ca: { path: string; pem?: string };
  /** Where the OS trust store wants the CA, and how it is rebuilt. */
  trust: TrustStorePlan;
  /** Whether containerd's copy of the CA and the trust store's differ from the admin host's (or the CA is not made yet). */
  caChanged: boolean;
  anchorChanged: boolean;
  /** hosts.toml files whose content on the node differs (missing ones included). */
  changedHosts: RenderedFile[];
  /** The critical images, pinned where the node's containerd honours pins (its `containerd --version`). */
  critical: string[];
  pins: boolean;
}

/**
 * curl when missing, the CA where it differs (containerd's copy, and the trust store's with its rebuild), the
 * hosts.toml files that differ, and, where anything changed and containerd honours pins, each critical image pulled
 * through the mirrors and pinned.
 */
export function planMirrors(s: MirrorsSeen): Step[] {
  const steps: Step[] = [];
  if (!s.curl) steps.push(installStep(s.family, ['curl'], REGISTRY_MIRRORS_PHASE));
  const ca = (to: string): Step => (s.ca.pem === undefined ? { kind: 'upload', from: s.ca.path, to, mode: 0o644 } : { kind: 'write', path: to, content: s.ca.pem, mode: 0o644 });
  if (s.caChanged) steps.push(ca(NODE_CA_PATH));
  if (s.anchorChanged) steps.push(ca(s.trust.anchor), exec(s.trust.update));
  if (s.changedHosts.length > 0) {
    steps.push(exec(['install', '-d', '-m', '0755', CONTAINERD_CERTS_DIR]));
    for (const f of s.changedHosts) steps.push({ kind: 'write', path: f.path, content: f.content, mode: f.mode });
  }
  if (steps.length === 0 || !s.pins) return steps;
  for (const ref of s.critical)
    steps.push(exec(['ctr', '--namespace', 'k8s.io', 'images', 'pull', '--hosts-dir', CONTAINERD_CERTS_DIR, ref]), exec(pinImageArgv(ref)));
  return steps;
}

export const registryMirrorsPhase: Phase<RegistryParams, MirrorsSeen> = {
  id: REGISTRY_MIRRORS_PHASE,
  title: 'Nodes pull only from the local registry (CA, hosts.toml, pins)',
  undo: 'reset-registry-mirrors',
  params: RegistryParams,
  targets: (ctx) => ctx.inventory.hosts,
  async observe(target, ctx, params) {
    const { host, admin } = target;
    const family = pickFamily(target.spec.name, await nodeFacts(target, ctx.state));
    const caPath = join(registryCaDir(ctx), 'ca.crt');
    // The registry phase makes the CA; in a dry run it was only planned, so it is uploaded (shown as pending) then.
    const pem = await admin.readFile(caPath).then((b) => b.toString('utf8'), () => undefined);
    const trust = trustStorePlan((await host.readFile('/etc/os-release')).toString('utf8'));
    const { files, critical } = await hostsFiles(admin, ctx, params);
    const caFiles = pem === undefined ? [] : [NODE_CA_PATH, trust.anchor].map((p) => renderedFile(p, pem));
    const changed = new Set((await filesToChange(host, [...caFiles, ...files])).map((f) => f.path));
    const version = await host.exec(['containerd', '--version'], { allowFailure: true });
    return {
      family, curl: await hasCurl(host), ca: { path: caPath, ...(pem === undefined ? {} : { pem }) }, trust,
      caChanged: pem === undefined || changed.has(NODE_CA_PATH), anchorChanged: pem === undefined || changed.has(trust.anchor),
      changedHosts: files.filter((f) => changed.has(f.path)), critical,
      pins: version.exitCode === 0 && containerdHonoursPins(version.stdout),
    };
  },
  plan: (seen) => planMirrors(seen),
};
