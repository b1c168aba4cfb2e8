// copy-bundle: the parts of the bundle a node needs (its OS package repository, plain files) go to
// /var/lib/ferry/bundle/ on every node; files already there with the manifest's sha256 are skipped, and every
// copied file is checked again on the node. Bytes and time per node are kept for the run's summary.
// Seed mode (`with: {mode: seed}`, or auto above `seedAbove` nodes): only the seed gets the files from the admin
// host; once every node's run succeeded, the others fetch what they lack from the seed (src/phases/seed-copy.ts).
import { join, posix } from 'node:path';
import { VerifyError } from '../errors.ts';
import type { Host } from '../hosts/host.ts';
import { sh } from '../hosts/shell.ts';
import { bundleManifest } from './bundle-manifest.ts';
import { checksumList, failedChecks, NODE_BUNDLE_DIR, nodeBundleFiles, type NodeBundleFile } from './bundle-on-node.ts';
import { mapHosts } from '../hosts/pool.ts';
import { PhaseError, UserError } from '../errors.ts';
import type { Phase, PhaseContext, PhaseTarget } from './phase.ts';
import { requireLock } from './render-inputs.ts';
import { CopyParams, fetchFromSeed, nodePython, seedNode, startSeedServer } from './seed-copy.ts';

/** Bytes and files copied to one node, and how long it took. */
export interface CopyStats {
  files: number;
  bytes: number;
  ms: number;
}

const UPLOADS_AT_ONCE = 4;

/** The run's copy statistics by host (filled by copy-bundle). */
export function copyStats(ctx: PhaseContext): Map<string, CopyStats> {
  return ctx.state.copied;
}

/** The files among `files` that are missing or different on the node (read-only, one round trip). */
export async function missingOnNode(host: Host, files: readonly NodeBundleFile[], options: { afterCopy?: boolean } = {}): Promise<NodeBundleFile[]> {
  if (files.length === 0) return [];
  // After copying it checks run's own work: not read-only, so a dry run lists it instead of running it.
  const r = await host.exec(sh`cd ${NODE_BUNDLE_DIR} 2>/dev/null && sha256sum -c --quiet -`, { stdin: checksumList(files), readOnly: !options.afterCopy, allowFailure: true });
  if (r.exitCode === 0) return [];
  const failed = failedChecks(r.stdout);
  // No list of failures means the directory itself is missing: everything is.
  return failed.size === 0 ? [...files] : files.filter((f) => failed.has(f.path));
}

async function filesFor(ctx: PhaseContext): Promise<NodeBundleFile[]> {
  return nodeBundleFiles(await bundleManifest(ctx), requireLock(ctx).stack.os);
}

async function copyDirect(target: PhaseTarget, ctx: PhaseContext, missing: readonly NodeBundleFile[]): Promise<void> {
  const dirs = [...new Set(missing.map((f) => posix.dirname(`${NODE_BUNDLE_DIR}/${f.path}`)))].sort();
  if (dirs.length > 0) await target.host.exec(['mkdir', '-p', '--', ...dirs]);
  const queue = [...missing];
  const worker = async () => {
    for (let f = queue.shift(); f; f = queue.shift()) await target.host.upload(join(ctx.bundleDir!, f.path), `${NODE_BUNDLE_DIR}/${f.path}`);
  };
  await Promise.all(Array.from({ length: Math.min(UPLOADS_AT_ONCE, missing.length) }, worker));
}

async function verified(target: PhaseTarget, ctx: PhaseContext, missing: readonly NodeBundleFile[], started: number): Promise<void> {
  const bad = await missingOnNode(target.host, missing, { afterCopy: true });
  if (bad.length > 0) throw new VerifyError(bad.map((f) => `${target.spec.name}: ${f.path} differs from the manifest after copying`));
  copyStats(ctx).set(target.spec.name, { files: missing.length, bytes: missing.reduce((n, f) => n + f.size, 0), ms: Date.now() - started });
}

/** Seed mode, after every node's run: the nodes that deferred fetch what they lack from the seed, in parallel. */
async function fetchDeferred(targets: readonly PhaseTarget[], ctx: PhaseContext, params: CopyParams): Promise<void> {
  const seedSpec = seedNode(ctx.inventory.hosts, params);
  const seed = targets.find((t) => t.spec.name === seedSpec?.name);
  if (!seed) return;
  const waiting = targets.filter((t) => t !== seed);
  const files = await filesFor(ctx);
  const missing = await Promise.all(waiting.map((t) => missingOnNode(t.host, files)));
  const todo = waiting.map((t, i) => ({ name: t.spec.name, t, missing: missing[i]! })).filter((w) => w.missing.length > 0);
  if (todo.length === 0) return;
  const python = await nodePython(seed.host);
  if (!python) throw new UserError(`${seed.spec.name}: the seed has no python3 (or platform-python) to serve the bundle`, { hint: 'pick another seed (with: {seed: NAME}) or use with: {mode: direct}' });
  const server = await startSeedServer({ host: seed.host, address: seed.spec.address }, python, files);
  try {
    const outcomes = await mapHosts(todo, async ({ t, missing: lack }) => {
      const started = Date.now();
      const own = await nodePython(t.host);
      // A node without python gets its files from the admin host, as in direct mode.
      if (own) await fetchFromSeed(t.host, own, server, lack);
      else await copyDirect(t, ctx, lack);
      await verified(t, ctx, lack, started);
    }, { concurrency: ctx.inventory.ssh.concurrency });
    const failures = new Map(outcomes.flatMap((o, i) => (o.ok ? [] : [[todo[i]!.name, o.error as Error] as const])));
    if (failures.size > 0) throw new PhaseError('copy-bundle', failures);
  } finally {
    await server.stop();
  }
}

export const copyBundlePhase: Phase<CopyParams> = {
  id: 'copy-bundle',
  title: 'copy the bundle parts each node needs',
  undo: 'reset-copy-bundle',
  params: CopyParams,
  targets: (ctx) => ctx.inventory.hosts,
  async isDone(target, ctx) {
    return (await missingOnNode(target.host, await filesFor(ctx))).length === 0;
  },
  async run(target, ctx, params) {
    const seed = seedNode(ctx.inventory.hosts, params);
    // Seed mode: every node but the seed waits for afterAll, which fetches from the seed once it is complete.
    if (seed && seed.name !== target.spec.name) return;
    const started = Date.now();
    const missing = await missingOnNode(target.host, await filesFor(ctx));
    await copyDirect(target, ctx, missing);
    await verified(target, ctx, missing, started);
  },
  afterAll: (targets, ctx, params) => fetchDeferred(targets, ctx, params),
};
