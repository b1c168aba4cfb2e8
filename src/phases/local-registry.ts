// Install phase `registry` (this file is local-registry.ts: phases/registry.ts is the list of phases): on each
// registry host (role registry, else the control planes) install the distribution binary from the bundle, its TLS
// certificate from ferry's CA, the rendered config.yml and ferry-registry.service,
// start it, and seed it from the bundle's OCI layout over the network; then check every manifest resolves there.
// Used by the install playbook and by `ferry registry deploy|sync`.
import { join } from 'node:path';
import { z } from 'zod';
import { BundleLayout } from '../bundle/layout.ts';
import { UserError } from '../errors.ts';
import type { Host } from '../hosts/host.ts';
import { LocalHost } from '../hosts/local.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { HostUnreachableError } from '../errors.ts';
import { RegistryClient } from '../registry-client/client.ts';
import { readLayoutPlan } from '../registry/layout-files.ts';
import { NODE_CA_PATH, REGISTRY_NODE_DIR } from '../registry/node-plan.ts';
import { ensureRegistryCa, issueServerCertificate, type RegistryCa } from '../registry/pki.ts';
import { checkResolvable, seedReplica } from '../registry/seed.ts';
import { trustRegistryCa } from '../registry/trust.ts';
import { LOCAL_REGISTRY } from '../registry/local-name.ts';
import { REGISTRY_ROOT, REGISTRY_UNIT, renderRegistry } from '../render/registry.ts';
import { registryCertificateSans, registryHosts } from '../render/node-files.ts';
import { bundleManifest, checkBundleAgainstLock } from './bundle-manifest.ts';
import type { Phase, PhaseContext, PhaseTarget } from './phase.ts';
import { memo } from './run-state.ts';

export const RegistryParams = z
  .object({
    port: z.number().int().min(1).max(65535).default(LOCAL_REGISTRY.port),
    /** The distribution binary inside the bundle; default: the bundle's `registry` file (component registry). */
    binary: z.string().optional(),
    /** Where ferry keeps the CA on the admin host. */
    stateDir: z.string().default('.ferry'),
  })
  .strict();
export type RegistryParams = z.infer<typeof RegistryParams>;

/** Where the distribution binary goes on a replica host (reset removes it). */
export const REGISTRY_BINARY = '/usr/local/bin/ferry-registry';
const TLS_CERT = `${REGISTRY_NODE_DIR}/tls/registry.crt`;
const TLS_KEY = `${REGISTRY_NODE_DIR}/tls/registry.key`;

/** Where the registry CA lives on the admin host: the install's state directory, else the phase's parameter. */
export function registryCaDir(ctx: PhaseContext, params: RegistryParams): string {
  return ctx.layout?.registryCaDir ?? join(params.stateDir, 'registry-ca');
}

/** The CA for this run: made once on the admin host, shared by every host of the phase. */
export function runCa(ctx: PhaseContext, params: RegistryParams): Promise<RegistryCa> {
  return memo(ctx.state, 'registryCa', () => ensureRegistryCa(new LocalHost(), registryCaDir(ctx, params), ctx.inventory.name));
}

/** The registry files ferry renders for one replica host. */
export function rendered(target: Pick<PhaseTarget, 'spec'>, params: RegistryParams) {
  return renderRegistry({ listen: `${target.spec.address}:${params.port}`, tls: { certificate: TLS_CERT, key: TLS_KEY }, binaryPath: REGISTRY_BINARY });
}

function bundleDir(ctx: PhaseContext): string {
  if (!ctx.bundleDir) throw new UserError('the registry phase needs a bundle', { hint: 'pass --bundle DIR' });
  return ctx.bundleDir;
}

async function serviceMatches(host: Host, target: PhaseTarget, params: RegistryParams): Promise<boolean> {
  const active = await host.exec(['systemctl', 'is-active', REGISTRY_UNIT], { allowFailure: true, readOnly: true });
  if (active.stdout.trim() !== 'active') return false;
  for (const file of rendered(target, params)) {
    const now = await host.readFile(file.path).catch(() => undefined);
    if (now?.toString('utf8') !== file.content) return false;
  }
  return true;
}

async function waitForRegistry(name: string, replica: string): Promise<void> {
  let last = '';
  for (let i = 0; i < 50; i++) {
    const res = await fetch(`https://${replica}/v2/`, { signal: AbortSignal.timeout(5000) }).catch((e: Error) => ((last = String(e.cause ?? e.message)), undefined));
    await res?.body?.cancel();
    if (res?.status === 200) return;
    if (res) last = `HTTP ${res.status}`;
    await sleep(200);
  }
  throw new HostUnreachableError(name, `the registry at https://${replica}/v2/ did not answer after ${REGISTRY_UNIT} started (${last})`, {
    hint: `look at journalctl -u ${REGISTRY_UNIT} on ${name}, and that port ${replica.split(':').pop()} is open`,
  });
}

/** The registry binary's path inside the bundle: the parameter, else the file the spec's `registry` entry carried. */
export async function registryBinary(ctx: PhaseContext, params: RegistryParams): Promise<string> {
  if (params.binary) return params.binary;
  const found = (await bundleManifest(ctx)).artifacts.find((a) => a.kind === 'file' && a.name === 'registry');
  if (!found)
    throw new UserError('the bundle carries no registry binary, which the registry phase installs on the control planes', {
      hint: "add distribution's release archive to the bundle spec's files (component: registry, name: registry, extract: registry), as bundles/gpu-cluster.yaml does",
    });
  return found.path;
}

export const localRegistryPhase: Phase<RegistryParams> = {
  id: 'registry',
  title: 'Local image registry: install, start, seed from the bundle',
  undo: 'reset-registry',
  check: (ctx) => checkBundleAgainstLock(ctx, 'registry'),
  params: RegistryParams,
  targets: (ctx) => registryHosts(ctx.inventory),
  async isDone(target, ctx, params) {
    if (!(await serviceMatches(target.host, target, params))) return false;
    const ca = await runCa(ctx, params);
    trustRegistryCa(ca.certPem);
    const plan = await readLayoutPlan(join(bundleDir(ctx), BundleLayout.imagesDir));
    return checkResolvable(new RegistryClient(), [`${target.spec.address}:${params.port}`], plan).then(() => true, () => false);
  },
  async run(target, ctx, params) {
    const { host, spec } = target;
    const bundle = bundleDir(ctx);
    const ca = await runCa(ctx, params);
    const sans = registryCertificateSans({ inventory: ctx.inventory, registry: { name: LOCAL_REGISTRY.name, port: params.port, caPath: NODE_CA_PATH, caPem: ca.certPem } });
    const cert = await issueServerCertificate(new LocalHost(), ca, join(registryCaDir(ctx, params), 'issued'), spec.name, sans);
    ctx.addSecret(cert.keyPem);
    await host.upload(join(bundle, await registryBinary(ctx, params)), REGISTRY_BINARY, { mode: 0o755 });
    await host.exec(['install', '-d', '-m', '0755', `${REGISTRY_NODE_DIR}/tls`, REGISTRY_ROOT]);
    await host.writeFile(NODE_CA_PATH, ca.certPem, { mode: 0o644 });
    await host.writeFile(TLS_CERT, cert.certPem, { mode: 0o644 });
    await host.writeFile(TLS_KEY, cert.keyPem, { mode: 0o600 });
    for (const file of rendered(target, params)) await host.writeFile(file.path, file.content, { mode: file.mode });
    await host.exec(['systemctl', 'daemon-reload']);
    await host.exec(['systemctl', 'enable', REGISTRY_UNIT]);
    await host.exec(['systemctl', 'restart', REGISTRY_UNIT]);
    const replica = `${spec.address}:${params.port}`;
    trustRegistryCa(ca.certPem);
    await waitForRegistry(spec.name, replica);
    const layout = join(bundle, BundleLayout.imagesDir);
    const plan = await readLayoutPlan(layout);
    const client = new RegistryClient();
    await seedReplica(client, replica, layout, plan);
    await checkResolvable(client, [replica], plan);
  },
};
