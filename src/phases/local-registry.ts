// Install phase `registry` (this file is local-registry.ts: phases/registry.ts is the list of phases): on each
// registry host (role registry, else the control planes) install the distribution binary from the bundle, its TLS
// certificate from ferry's CA, the rendered config.yml and ferry-registry.service,
// start it, and seed it from the bundle's OCI layout over the network; then check every manifest resolves there.
// The CA (once per run, under the state directory's registry-ca) and each replica's certificate are made on the
// admin host by openssl steps, and reach the replica by upload; the wait for the registry and the seeding over
// HTTPS are tasks (a dry run lists them and runs neither).
// Used by the install playbook and by `ferry registry deploy|sync`.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { BundleLayout } from '../bundle/layout.ts';
import { HostUnreachableError, InternalError, UserError } from '../errors.ts';
import type { Host } from '../hosts/host.ts';
import { RegistryClient } from '../registry-client/client.ts';
import { readLayoutPlan } from '../registry/layout-files.ts';
import { LOCAL_REGISTRY } from '../registry/local-name.ts';
import { NODE_CA_PATH, REGISTRY_NODE_DIR } from '../registry/node-plan.ts';
import { caPaths, issuedPaths, makeCaArgvs, newSerial, requestArgv, serverExtensions, signArgv, type RegistryCa, type San } from '../registry/pki.ts';
import { checkResolvable, seedReplica } from '../registry/seed.ts';
import { trustRegistryCa } from '../registry/trust.ts';
import type { RenderedFile } from '../render/file.ts';
import { registryCertificateSans, registryHosts } from '../render/node-files.ts';
import { REGISTRY_ROOT, REGISTRY_UNIT, renderRegistry } from '../render/registry.ts';
import { bundleManifest, checkBundleAgainstLock } from './bundle-manifest.ts';
import type { PhaseContext, PhaseTarget, Phase } from './phase.ts';
import { exec, onAdmin, type Step } from './step.ts';

export const RegistryParams = z
  .object({
    port: z.number().int().min(1).max(65535).default(LOCAL_REGISTRY.port),
    /** The distribution binary inside the bundle; default: the bundle's `registry` file (component registry). */
    binary: z.string().optional(),
  })
  .strict();
export type RegistryParams = z.infer<typeof RegistryParams>;

/** Where the distribution binary goes on a replica host (reset removes it). */
export const REGISTRY_BINARY = '/usr/local/bin/ferry-registry';
const TLS_CERT = `${REGISTRY_NODE_DIR}/tls/registry.crt`;
const TLS_KEY = `${REGISTRY_NODE_DIR}/tls/registry.key`;
/** The `once` keys of the CA's steps: however many replicas plan it, the CA is made once per run. */
const CA_ONCE = 'registry-ca';

/** Where the registry CA lives on the admin host: the state directory's registry-ca. */
export function registryCaDir(ctx: PhaseContext): string {
  if (!ctx.layout) throw new InternalError('the run context has no state directory (the registry CA is kept there)');
  return ctx.layout.registryCaDir;
}

/**
 * The CA as the registry phase left it on the admin host (read through the admin host), for registry-mirrors. In a
 * dry run the registry phase only planned it: its certificate is then empty.
 */
export async function runCa(ctx: PhaseContext, _params?: RegistryParams): Promise<RegistryCa> {
  const { certPath, keyPath } = caPaths(registryCaDir(ctx));
  const certPem = await ctx.admin.readFile(certPath).then((b) => b.toString('utf8'), () => undefined);
  if (certPem !== undefined) return { certPath, keyPath, certPem };
  if (ctx.state.memo.has(`step:${CA_ONCE}:1`)) return { certPath, keyPath, certPem: '' };
  throw new UserError(`there is no registry CA under ${registryCaDir(ctx)}`, { hint: 'run the registry phase first (ferry registry deploy, or the install playbook)' });
}

/** The registry files ferry renders for one replica host. */
export function rendered(target: Pick<PhaseTarget, 'spec'>, params: RegistryParams) {
  return renderRegistry({ listen: `${target.spec.address}:${params.port}`, tls: { certificate: TLS_CERT, key: TLS_KEY }, binaryPath: REGISTRY_BINARY });
}

function bundleDir(ctx: PhaseContext): string {
  if (!ctx.bundleDir) throw new UserError('the registry phase needs a bundle', { hint: 'pass --bundle DIR' });
  return ctx.bundleDir;
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

/** What the registry phase sees for one replica: the CA on the admin host, the service and its files, the content. */
export interface RegistrySeen {
  /** The CA's certificate and the mode of its key (`stat -c %a`), when both are there. */
  ca?: { certPem: string; keyMode: string };
  /** ferry-registry.service is active and every rendered file is as rendered. */
  serviceMatches: boolean;
  /** Every manifest of the bundle resolves on the replica (asked only when the service matches). */
  resolvable: boolean;
  /** The registry binary's path inside the bundle. */
  binary: string;
  /** A fresh serial for a certificate this plan would issue (drawn in observe, so plan stays a function of it). */
  serial: string;
}

/** What the plan is made from besides the observation. */
export interface RegistryInput {
  name: string;
  clusterName: string;
  /** The CA's directory and the directory replica certificates are issued in, on the admin host. */
  caDir: string;
  issuedDir: string;
  sans: readonly San[];
  bundleDir: string;
  files: readonly RenderedFile[];
  /** `address:port` of the replica. */
  replica: string;
  /** The tasks: wait until the replica answers; seed it and check every manifest resolves. */
  wait: (admin: Host) => Promise<void>;
  seed: (admin: Host) => Promise<void>;
}

/** The steps from what was seen: [] when the replica runs as rendered and serves the bundle; else the whole deploy. */
export function planRegistry(seen: RegistrySeen, input: RegistryInput): Step[] {
  const ca = caPaths(input.caDir);
  const steps: Step[] = seen.ca && seen.ca.keyMode !== '600' ? [onAdmin(['chmod', '0600', ca.keyPath])] : [];
  if (seen.ca && seen.serviceMatches && seen.resolvable) return steps;
  if (!seen.ca) steps.push(...makeCaArgvs(input.caDir, input.clusterName).map((argv, i) => onAdmin(argv, { once: `${CA_ONCE}:${i}` })));
  const cert = issuedPaths(input.issuedDir, input.name);
  steps.push(
    onAdmin(['install', '-d', '-m', '0700', input.issuedDir]),
    { kind: 'write', on: 'admin', path: cert.ext, content: serverExtensions(input.sans), mode: 0o600 },
    onAdmin(requestArgv(input.issuedDir, input.name)),
    onAdmin(signArgv(ca, input.issuedDir, input.name, seen.serial)),
    { kind: 'upload', from: join(input.bundleDir, seen.binary), to: REGISTRY_BINARY, mode: 0o755 },
    exec(['install', '-d', '-m', '0755', `${REGISTRY_NODE_DIR}/tls`, REGISTRY_ROOT]),
    { kind: 'upload', from: ca.certPath, to: NODE_CA_PATH, mode: 0o644 },
    { kind: 'upload', from: cert.crt, to: TLS_CERT, mode: 0o644 },
    { kind: 'upload', from: cert.key, to: TLS_KEY, mode: 0o600 },
    // The replica's key lives on the replica only.
    onAdmin(['rm', '-f', cert.key, cert.csr]),
    ...input.files.map((f): Step => ({ kind: 'write', path: f.path, content: f.content, mode: f.mode })),
    exec(['systemctl', 'daemon-reload']),
    exec(['systemctl', 'enable', REGISTRY_UNIT]),
    exec(['systemctl', 'restart', REGISTRY_UNIT]),
    { kind: 'task', what: `wait until https://${input.replica}/v2/ answers`, run: ({ admin }) => input.wait(admin) },
    { kind: 'task', what: `seed ${input.replica} from the bundle's images and check every manifest resolves there`, run: ({ admin }) => input.seed(admin) },
  );
  return steps;
}

/** Trusts the CA the admin host keeps (made by an earlier step of the same plan, possibly). */
async function trustCa(admin: Host, caDir: string): Promise<void> {
  trustRegistryCa((await admin.readFile(caPaths(caDir).certPath)).toString('utf8'));
}

export const localRegistryPhase: Phase<RegistryParams, RegistrySeen> = {
  id: 'registry',
  title: 'Local image registry: install, start, seed from the bundle',
  undo: 'reset-registry',
  check: (ctx) => checkBundleAgainstLock(ctx, 'registry'),
  params: RegistryParams,
  targets: (ctx) => registryHosts(ctx.inventory),
  async observe(target, ctx, params) {
    const { host, admin } = target;
    const { certPath, keyPath } = caPaths(registryCaDir(ctx));
    const present = (await admin.exec(['test', '-s', certPath, '-a', '-s', keyPath], { allowFailure: true })).exitCode === 0;
    const ca = present
      ? { certPem: (await admin.readFile(certPath)).toString('utf8'), keyMode: (await admin.exec(['stat', '-c', '%a', keyPath])).stdout.trim() }
      : undefined;
    const active = await host.exec(['systemctl', 'is-active', REGISTRY_UNIT], { allowFailure: true });
    let serviceMatches = active.stdout.trim() === 'active';
    for (const file of serviceMatches ? rendered(target, params) : []) {
      const now = await host.readFile(file.path).catch(() => undefined);
      if (now?.toString('utf8') !== file.content) serviceMatches = false;
    }
    let resolvable = false;
    if (ca && serviceMatches) {
      trustRegistryCa(ca.certPem);
      const plan = await readLayoutPlan(join(bundleDir(ctx), BundleLayout.imagesDir), admin);
      resolvable = await checkResolvable(new RegistryClient(), [`${target.spec.address}:${params.port}`], plan).then(() => true, () => false);
    }
    return { ...(ca ? { ca } : {}), serviceMatches, resolvable, binary: await registryBinary(ctx, params), serial: newSerial() };
  },
  plan(seen, { spec, ctx, params }) {
    const caDir = registryCaDir(ctx);
    const bundle = bundleDir(ctx);
    const replica = `${spec.address}:${params.port}`;
    return planRegistry(seen, {
      name: spec.name, clusterName: ctx.inventory.name, caDir, issuedDir: ctx.layout!.registryIssuedDir,
      sans: registryCertificateSans({ inventory: ctx.inventory, registry: { name: LOCAL_REGISTRY.name, port: params.port, caPath: NODE_CA_PATH, caPem: seen.ca?.certPem ?? '' } }),
      bundleDir: bundle, files: rendered({ spec }, params), replica,
      wait: async (admin) => {
        await trustCa(admin, caDir);
        await waitForRegistry(spec.name, replica);
      },
      seed: async (admin) => {
        await trustCa(admin, caDir);
        const layout = join(bundle, BundleLayout.imagesDir);
        const plan = await readLayoutPlan(layout, admin);
        const client = new RegistryClient();
        await seedReplica(client, replica, layout, plan);
        await checkResolvable(client, [replica], plan);
      },
    });
  },
};
