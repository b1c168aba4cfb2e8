// `ferry registry deploy|sync|status|verify`: the local registry outside a full install. deploy and sync run the
// `registry` and `registry-mirrors` install phases; status and verify read and judge, and change nothing.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { BundleLayout } from '../bundle/layout.ts';
import { loadInventory, requireBundleDir } from '../config/inputs.ts';
import { UserError, VerifyError } from '../errors.ts';
import { connectInventory } from '../hosts/connect.ts';
import { registryMirrorsPhase } from '../phases/registry-mirrors.ts';
import { RegistryParams, localRegistryPhase, rendered } from '../phases/local-registry.ts';
import { runPhases } from '../phases/runner.ts';
import { RegistryClient } from '../registry-client/client.ts';
import { readLayoutPlan } from '../registry/layout-files.ts';
import { NODE_CA_PATH, replicaEndpoints } from '../registry/node-plan.ts';
import { judgeNodeResolve, judgeReplica, nodeResolveScript, type StatusFinding } from '../registry/status.ts';
import { trustRegistryCa } from '../registry/trust.ts';
import { verifyReplica } from '../registry/verify.ts';
import { registryHosts } from '../render/node-files.ts';
import { ADMIN_HOST } from '../install/run.ts';
import { LocalHost } from '../hosts/local.ts';
import { newRunState } from '../phases/run-state.ts';
import { StateLayout } from '../state/layout.ts';
import type { CommandContext } from './program.ts';

interface Flags {
  inventory: string;
  bundle?: string;
  stateDir: string;
  json?: boolean;
}

async function setup(ctx: CommandContext, flags: Flags) {
  const inventoryPath = resolve(ctx.cwd, flags.inventory);
  const homeDir = ctx.env.HOME ?? homedir();
  const inventory = await loadInventory(inventoryPath, { homeDir });
  if (flags.bundle) await requireBundleDir(resolve(ctx.cwd, flags.bundle));
  const layout = new StateLayout(resolve(ctx.cwd, flags.stateDir));
  const stateDir = layout.dir;
  const params = RegistryParams.parse({});
  const hosts = connectInventory(inventory, { homeDir, baseDir: dirname(inventoryPath), ...(ctx.env.SSH_AUTH_SOCK ? { agentSocket: ctx.env.SSH_AUTH_SOCK } : {}) });
  return { inventory, stateDir, layout, params, hosts };
}

/** The bundle named by --bundle, else the one the last deploy recorded in the state directory. */
async function bundleFor(ctx: CommandContext, flags: Flags, stateDir: string): Promise<string> {
  if (flags.bundle) return resolve(ctx.cwd, flags.bundle);
  const saved = await readFile(new StateLayout(stateDir).registryState, 'utf8').then((t) => JSON.parse(t) as { bundle?: string }, () => ({}) as { bundle?: string });
  if (!saved.bundle) throw new UserError('no bundle given and none deployed yet', { hint: 'pass --bundle DIR (the bundle the registry was deployed from)' });
  return saved.bundle;
}

async function deploy(ctx: CommandContext, flags: Flags, what: 'deploy' | 'sync'): Promise<void> {
  const { inventory, stateDir, layout, params, hosts } = await setup(ctx, flags);
  await using _ = hosts;
  const bundleDir = await bundleFor(ctx, flags, stateDir);
  const reports = await runPhases(
    [{ phase: localRegistryPhase, params }, { phase: registryMirrorsPhase, params }],
    { inventory, bundleDir, state: newRunState(), admin: new LocalHost(ADMIN_HOST), layout, addSecret: () => {}, now: ctx.now },
    {
      concurrency: inventory.ssh.concurrency,
      hostFor: (name) => hosts.hosts.get(name)!,
      onEvent: (e) => e.type === 'host-end' && ctx.io.stderr.write(`${e.phase} ${e.host}: ${e.outcome} (${(e.durationMs / 1000).toFixed(1)} s)\n`),
    },
  );
  if (what === 'deploy') {
    await mkdir(stateDir, { recursive: true });
    await writeFile(layout.registryState, `${JSON.stringify({ bundle: bundleDir }, null, 2)}\n`);
  }
  if (flags.json) ctx.io.stdout.write(`${JSON.stringify(reports)}\n`);
  else ctx.io.stdout.write(`registry ${what}: done on ${registryHosts(inventory).length} replica(s) and ${inventory.hosts.length} node(s)\n`);
}

function report(ctx: CommandContext, flags: Flags, findings: readonly StatusFinding[]): void {
  if (flags.json) ctx.io.stdout.write(`${JSON.stringify(findings)}\n`);
  else for (const f of findings) ctx.io.stdout.write(`${f.ok ? 'ok  ' : 'FAIL'} ${f.host} ${f.check}: ${f.message}\n`);
  const failed = findings.filter((f) => !f.ok);
  if (failed.length) throw new VerifyError(failed.map((f) => `${f.host} ${f.check}: ${f.message}`), { hint: 'run ferry registry deploy again to repair' });
}

async function status(ctx: CommandContext, flags: Flags): Promise<void> {
  const { inventory, stateDir, params, hosts } = await setup(ctx, flags);
  await using _ = hosts;
  const plan = await readLayoutPlan(join(await bundleFor(ctx, flags, stateDir), BundleLayout.imagesDir));
  const replicas = replicaEndpoints(inventory, params.port);
  const findings: StatusFinding[] = [];
  await Promise.all([
    ...registryHosts(inventory).map(async (spec) => {
      const host = hosts.hosts.get(spec.name)!;
      const active = await host.exec(['systemctl', 'is-active', 'ferry-registry.service'], { allowFailure: true, readOnly: true });
      const files = await Promise.all(rendered({ spec }, params).map(async (file) => ({ file, onNode: await host.readFile(file.path).then((b) => b.toString('utf8'), () => undefined) })));
      findings.push(...judgeReplica(spec.name, active.stdout, files));
    }),
    ...inventory.hosts.map(async (spec) => {
      const out = await hosts.hosts.get(spec.name)!.exec(nodeResolveScript(replicas, plan, NODE_CA_PATH), { readOnly: true });
      findings.push(...judgeNodeResolve(spec.name, out.stdout, replicas.length * plan.length));
    }),
  ]);
  report(ctx, flags, findings.sort((a, b) => a.host.localeCompare(b.host)));
}

async function verify(ctx: CommandContext, flags: Flags): Promise<void> {
  const { inventory, stateDir, params, hosts } = await setup(ctx, flags);
  await hosts.close();
  const ca = await readFile(join(new StateLayout(stateDir).registryCaDir, 'ca.crt'), 'utf8').catch(() => {
    throw new UserError(`no registry CA under ${stateDir}`, { hint: 'run ferry registry deploy first, or pass --state-dir' });
  });
  trustRegistryCa(ca);
  const plan = await readLayoutPlan(join(await bundleFor(ctx, flags, stateDir), BundleLayout.imagesDir));
  const client = new RegistryClient();
  const results = await Promise.all(replicaEndpoints(inventory, params.port).map((r) => verifyReplica(client, r, plan)));
  const findings = results.flat().map((f) => ({ host: f.replica, check: f.subject, ok: f.ok, message: f.message }));
  const failed = findings.filter((f) => !f.ok);
  report(ctx, flags, failed.length ? failed : [{ host: 'all replicas', check: 'content', ok: true, message: `${findings.length} manifests and blobs checked, every digest matches` }]);
}

/** Registers `ferry registry …`. */
export function registerRegistryCommands(program: Command, ctx: CommandContext): void {
  const registry = program.command('registry').description('The local image registry that keeps every bundle image pullable on site');
  const common = (c: Command, bundleRequired: boolean) =>
    c
      .requiredOption('-i, --inventory <file>', 'cluster.yaml')
      [bundleRequired ? 'requiredOption' : 'option']('--bundle <dir>', 'the bundle directory (default: the one last deployed)')
      .option('--state-dir <dir>', "where ferry keeps the registry's CA", '.ferry')
      .option('--json', 'machine-readable output');
  common(registry.command('deploy').description('install, start and seed the replicas; point every node at them'), true).action((f: Flags) => deploy(ctx, f, 'deploy'));
  common(registry.command('sync').description('add the content of a (delta) bundle to every replica'), true).action((f: Flags) => deploy(ctx, f, 'sync'));
  common(registry.command('status').description('replicas up and as rendered; every image resolvable by digest from every node'), false).action((f: Flags) => status(ctx, f));
  common(registry.command('verify').description('hash every manifest and blob on every replica against the bundle'), false).action((f: Flags) => verify(ctx, f));
}
