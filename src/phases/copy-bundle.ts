// copy-bundle: the parts of the bundle a node needs (its OS package repository, plain files) go to
// /var/lib/ferry/bundle/ on every node; files already there with the manifest's sha256 are skipped, and every
// copied file is checked again on the node (the round after the copy observes it). Bytes and time per node are kept
// for the run's summary (RunState.copied).
// Seed mode (`with: {mode: seed}`, or auto above `seedAbove` nodes): only the seed gets the files from the admin
// host; the others wait, and once every node's run succeeded they fetch what they lack from the seed, in parallel
// (afterAll: the seed stage, observed and planned here and applied by the runner; src/phases/seed-copy.ts).
import { join, posix } from 'node:path';
import { PhaseError, UserError, VerifyError } from '../errors.ts';
import type { Host } from '../hosts/host.ts';
import { mapHosts } from '../hosts/pool.ts';
import { ReadOnlyHost } from '../hosts/read-only.ts';
import { sh } from '../hosts/shell.ts';
import { bundleManifest } from './bundle-manifest.ts';
import { checksumList, failedChecks, NODE_BUNDLE_DIR, nodeBundleFiles, type NodeBundleFile } from './bundle-on-node.ts';
import type { ApplyStage, Phase, PhaseContext, PhaseTarget } from './phase.ts';
import { requireLock } from './render-inputs.ts';
import { nodeLock } from './node-lock.ts';
import { lockOses } from '../config/lock-os.ts';
import { memo, type CopyStats, type RunState } from './run-state.ts';
import { CopyParams, fetchFromSeed, nodePython, seedNode, startSeedServer } from './seed-copy.ts';
import { exec, type Step } from './step.ts';

const UPLOADS_AT_ONCE = 4;
const PHASE = 'copy-bundle';

/** The run's copy statistics by host (filled by copy-bundle's copy steps). */
export function copyStats(ctx: PhaseContext): Map<string, CopyStats> {
  return ctx.state.copied;
}

/** The files among `files` that are missing or different on the node (one round trip; a read). */
export async function missingOnNode(host: Host, files: readonly NodeBundleFile[]): Promise<NodeBundleFile[]> {
  if (files.length === 0) return [];
  const r = await host.exec(sh`cd ${NODE_BUNDLE_DIR} 2>/dev/null && sha256sum -c --quiet -`, { stdin: checksumList(files), allowFailure: true });
  if (r.exitCode === 0) return [];
  const failed = failedChecks(r.stdout);
  // No list of failures means the directory itself is missing: everything is.
  return failed.size === 0 ? [...files] : files.filter((f) => failed.has(f.path));
}

/** The bundle files `target` needs: its own OS release's repository (a bundle may carry several) and the plain files. */
async function filesFor(target: Pick<PhaseTarget, 'spec' | 'host'>, ctx: PhaseContext): Promise<NodeBundleFile[]> {
  return nodeBundleFiles(await bundleManifest(ctx), (await nodeLock(target, ctx)).stack.os);
}

/** What the seed holds to serve every node: the repository of each OS release the lock carries, and the plain files. */
async function seedFiles(ctx: PhaseContext): Promise<NodeBundleFile[]> {
  const manifest = await bundleManifest(ctx);
  const byPath = new Map(lockOses(requireLock(ctx).stack).flatMap((o) => nodeBundleFiles(manifest, o.os)).map((f) => [f.path, f]));
  return [...byPath.values()];
}

const sizeOf = (files: readonly NodeBundleFile[]) => files.reduce((n, f) => n + f.size, 0);

/** The directories under NODE_BUNDLE_DIR that `files` go to. */
export function bundleDirs(files: readonly NodeBundleFile[]): string[] {
  return [...new Set(files.map((f) => posix.dirname(`${NODE_BUNDLE_DIR}/${f.path}`)))].sort();
}

/** Uploads `files` from the admin host's bundle, a few at once. */
async function uploadFiles(node: Host, bundleDir: string, files: readonly NodeBundleFile[]): Promise<void> {
  const queue = [...files];
  const worker = async () => {
    for (let f = queue.shift(); f; f = queue.shift()) await node.upload(join(bundleDir, f.path), `${NODE_BUNDLE_DIR}/${f.path}`);
  };
  await Promise.all(Array.from({ length: Math.min(UPLOADS_AT_ONCE, files.length) }, worker));
}

/** What a copy needs besides the files: where the bundle is, where statistics go, and the clock. */
export interface CopyInput {
  bundleDir: string;
  state: RunState;
  now(): Date;
}

function record(input: CopyInput, node: string, files: readonly NodeBundleFile[], started: Date): void {
  input.state.copied.set(node, { files: files.length, bytes: sizeOf(files), ms: input.now().getTime() - started.getTime() });
}

/** The nodes that wait for the seed stage in this run (their plans' steps add them). */
function waitingForSeed(state: RunState): Promise<Set<string>> {
  return memo(state, `${PHASE}:waiting`, async () => new Set<string>());
}

/** What copy-bundle sees on a node. */
export interface CopySeen {
  node: string;
  /** The bundle files the node needs that are missing or different there. */
  missing: NodeBundleFile[];
  /** This run already copied to this node: whatever is still missing did not arrive intact. */
  copied: boolean;
  /** Seed mode, on a node other than the seed: the seed its files come from, and whether it already waits for it. */
  seed?: { name: string; waiting: boolean };
}

/**
 * Nothing when every file checks out; a refusal when a copy of this run did not arrive intact; in seed mode, on a
 * node other than the seed, a place in the seed stage; else the directories and the upload (with its statistics).
 */
export function planCopy(s: CopySeen, input: CopyInput): Step[] {
  if (s.missing.length === 0) return [];
  if (s.copied) throw new VerifyError(s.missing.map((f) => `${s.node}: ${f.path} differs from the manifest after copying`));
  const { node, missing } = s;
  const what = `${missing.length} file(s), ${sizeOf(missing)} bytes`;
  if (s.seed) {
    if (s.seed.waiting) return [];
    return [{
      kind: 'task', what: `fetch ${what} from the seed ${s.seed.name} once every node's run is over`,
      run: async () => void (await waitingForSeed(input.state)).add(node),
    }];
  }
  return [
    exec(['mkdir', '-p', '--', ...bundleDirs(missing)]),
    {
      kind: 'task', what: `upload ${what} from the bundle to ${NODE_BUNDLE_DIR} (${UPLOADS_AT_ONCE} at once)`,
      run: async (apply) => {
        const started = input.now();
        await uploadFiles(apply.node, input.bundleDir, missing);
        record(input, node, missing, started);
      },
    },
  ];
}

/** What the seed stage sees once every node's run is over. */
export interface SeedStageSeen {
  /** Every file a node needs (what the seed serves). */
  files: NodeBundleFile[];
  /** The seed when it is a host of this run (add-node runs on the new node alone), and its interpreter. */
  seed?: { name: string; address: string; python?: string };
  /** The nodes that waited: what each still lacks, and its interpreter. */
  nodes: { name: string; missing: NodeBundleFile[]; python?: string }[];
}

/** Who fetches what from where: a pure decision. */
export interface SeedStagePlan {
  /** The server on the seed, when any node fetches from it. */
  serve?: { seed: string; address: string; python: string; files: NodeBundleFile[] };
  fromSeed: { name: string; python: string; files: NodeBundleFile[] }[];
  /** Nodes without python, or with no seed in this run: from the admin host, as in direct mode. */
  direct: { name: string; files: NodeBundleFile[] }[];
}

export function planSeedStage(s: SeedStageSeen): SeedStagePlan {
  const todo = s.nodes.filter((n) => n.missing.length > 0);
  const fromSeed = s.seed ? todo.flatMap((n) => (n.python ? [{ name: n.name, python: n.python, files: n.missing }] : [])) : [];
  const direct = todo.filter((n) => !fromSeed.some((f) => f.name === n.name)).map((n) => ({ name: n.name, files: n.missing }));
  if (fromSeed.length === 0) return { fromSeed, direct };
  const seed = s.seed!;
  if (!seed.python) throw new UserError(`${seed.name}: the seed has no python3 (or platform-python) to serve the bundle`, { hint: 'pick another seed (with: {seed: NAME}) or use with: {mode: direct}' });
  return { serve: { seed: seed.name, address: seed.address, python: seed.python, files: s.files }, fromSeed, direct };
}

/**
 * The seed stage as one step: start the seed's server, let every waiting node fetch (or get from the admin host)
 * what it lacks, check each copy on its node, and stop the server by its PID whatever happened.
 */
export function seedStageSteps(p: SeedStagePlan, hosts: ReadonlyMap<string, Host>, input: CopyInput & { concurrency: number }): Step[] {
  const jobs: { name: string; files: NodeBundleFile[]; python?: string }[] = [...p.fromSeed, ...p.direct];
  if (jobs.length === 0) return [];
  const host = (name: string) => hosts.get(name)!;
  const names = jobs.map((j) => j.name).join(', ');
  return [{
    kind: 'task', what: p.serve ? `serve the bundle from ${p.serve.seed} to ${names}` : `upload the bundle to ${names}`,
    run: async () => {
      const server = p.serve ? await startSeedServer({ host: host(p.serve.seed), address: p.serve.address }, p.serve.python, p.serve.files) : undefined;
      try {
        const outcomes = await mapHosts(jobs, async (job) => {
          const node = host(job.name);
          const started = input.now();
          if (job.python && server) await fetchFromSeed(node, job.python, server, job.files);
          else {
            await node.exec(['mkdir', '-p', '--', ...bundleDirs(job.files)]);
            await uploadFiles(node, input.bundleDir, job.files);
          }
          const bad = await missingOnNode(node, job.files);
          if (bad.length > 0) throw new VerifyError(bad.map((f) => `${job.name}: ${f.path} differs from the manifest after copying`));
          record(input, job.name, job.files, started);
        }, { concurrency: input.concurrency });
        const failures = new Map(outcomes.flatMap((o, i) => (o.ok ? [] : [[jobs[i]!.name, o.error as Error] as const])));
        if (failures.size > 0) throw new PhaseError(PHASE, failures);
      } finally {
        await server?.stop();
      }
    },
  }];
}

/** Seed mode, after every node's run: observe the nodes that wait, plan who fetches what, hand the steps to `apply`. */
async function seedStage(targets: readonly PhaseTarget[], ctx: PhaseContext, params: CopyParams, apply: ApplyStage): Promise<void> {
  const waiting = await waitingForSeed(ctx.state);
  ctx.state.memo.delete(`${PHASE}:waiting`);
  if (waiting.size === 0) return;
  const seedSpec = seedNode(ctx.inventory.hosts, params);
  const seedTarget = targets.find((t) => t.spec.name === seedSpec?.name);
  const nodes = targets.filter((t) => waiting.has(t.spec.name) && t !== seedTarget);
  const files = await seedFiles(ctx);
  const look = (t: PhaseTarget) => new ReadOnlyHost(t.host);
  const seen: SeedStageSeen = { files, nodes: [] };
  for (const t of nodes) {
    const missing = await missingOnNode(look(t), await filesFor(t, ctx));
    seen.nodes.push({ name: t.spec.name, missing, ...(missing.length > 0 ? { python: await nodePython(look(t)) } : {}) });
  }
  if (seedTarget) {
    // The seed's interpreter matters only when a node will fetch from it.
    const serves = seen.nodes.some((n) => n.missing.length > 0 && n.python);
    seen.seed = { name: seedTarget.spec.name, address: seedTarget.spec.address, ...(serves ? { python: await nodePython(look(seedTarget)) } : {}) };
  }
  const hosts = new Map(targets.map((t) => [t.spec.name, t.host]));
  const input = { bundleDir: ctx.bundleDir ?? '', state: ctx.state, now: ctx.now, concurrency: ctx.inventory.ssh.concurrency };
  const steps = seedStageSteps(planSeedStage(seen), hosts, input);
  const first = seedTarget ?? nodes[0];
  if (first) await apply(steps, first);
}

export const copyBundlePhase: Phase<CopyParams, CopySeen> = {
  id: PHASE,
  title: 'copy the bundle parts each node needs',
  undo: 'reset-copy-bundle',
  params: CopyParams,
  targets: (ctx) => ctx.inventory.hosts,
  async observe(target, ctx, params) {
    const name = target.spec.name;
    const seed = seedNode(ctx.inventory.hosts, params);
    const missing = await missingOnNode(target.host, seed?.name === name ? await seedFiles(ctx) : await filesFor(target, ctx));
    return {
      node: name, missing, copied: ctx.state.copied.has(name),
      ...(seed && seed.name !== name ? { seed: { name: seed.name, waiting: (await waitingForSeed(ctx.state)).has(name) } } : {}),
    };
  },
  plan: (seen, { ctx }) => planCopy(seen, { bundleDir: ctx.bundleDir ?? '', state: ctx.state, now: ctx.now }),
  afterAll: (targets, ctx, params, apply) => seedStage(targets, ctx, params, apply),
};
