// The orchestrator of `ferry install`, `ferry reset`, `ferry add-node`, `ferry upgrade` and `ferry certs renew`:
// load the inputs, lay out the admin-side state, take the install lock, connect (SSH, audited, recording in a dry
// run; the admin host as a Host too), run the playbook's phases, and keep doctor's recommendation. The CLI only
// parses flags, shows progress and prints what this returns. A dry run writes nothing anywhere: no state directory,
// lock, audit line or secret file.
import { appendFileSync, existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { BundleLayout } from '../bundle/layout.ts';
import { loadInventory, loadLock, requireBundleDir } from '../config/inputs.ts';
import { playbookPhases } from '../config/playbook.ts';
import { PhaseError, UserError } from '../errors.ts';
import { connectInventory } from '../hosts/connect.ts';
import { DryRunHost, DryRunPlan, type PlanEntry } from '../hosts/dry-run.ts';
import type { Host } from '../hosts/host.ts';
import { LocalHost } from '../hosts/local.ts';
import { checkAllowedIds, DoctorGateError } from '../phases/doctor-gate.ts';
import { newBootstrapToken, tokenSecret } from '../phases/kube/join-secrets.ts';
import type { AnyPhase, PhaseContext } from '../phases/phase.ts';
import { phaseRegistry } from '../phases/registry.ts';
import { newRunState, type CopyStats } from '../phases/run-state.ts';
import { planPlaybook, runPhases, type RunEvent } from '../phases/runner.ts';
import { resetPlan } from '../phases/undo.ts';
import { AuditHost } from '../state/audit.ts';
import { readDoctorRecommendation, writeDoctorRecommendation } from '../state/doctor-recommendation.ts';
import { acquireInstallLock } from '../state/install-lock.ts';
import { StateLayout } from '../state/layout.ts';
import { commandWords, readPlaybook, type PlaybookCommand } from './playbooks.ts';
import { kubeadmSecrets, vrrpPassword } from './secrets.ts';

/** The name the admin host has in plans, audit lines and errors. */
export const ADMIN_HOST = 'admin host';

export interface PlaybookRunRequest {
  command: PlaybookCommand;
  /** Paths as the user gave them, resolved against `cwd`. */
  inventory: string;
  bundle?: string;
  lock?: string;
  playbook?: string;
  stateDir?: string;
  dryRun?: boolean;
  only?: readonly string[];
  skip?: readonly string[];
  acceptNewHostKeys?: boolean;
  allowFailedCheck?: readonly string[];
  /** add-node: the inventory host to add. */
  host?: string;
  /** certs renew: renew even when no certificate is within 30 days of expiry. */
  force?: boolean;
}

export interface PlaybookRunEnv {
  cwd: string;
  homeDir: string;
  agentSocket?: string;
  now(): Date;
  /** Progress for the phases about to run (the CLI's listr, lines or JSON). */
  progress(phases: readonly AnyPhase[]): { onEvent(e: RunEvent): void; finish(): Promise<void> };
}

export interface PlaybookRunResult {
  dryRun: boolean;
  /** Every command and file a dry run would have run or written, per host (empty for a real run). */
  plan: PlanEntry[];
  hosts: string[];
  copied: Record<string, CopyStats>;
  warnings: string[];
  /** The audit log (absent in a dry run, which writes nothing). */
  auditFile?: string;
}

/** The command line to run again after a failure (same inputs; finished work is skipped). */
export function rerunCommand(r: PlaybookRunRequest): string {
  const words = [`ferry ${commandWords(r.command)}`, `-i ${r.inventory}`, ...(r.host ? [`--host ${r.host}`] : [])];
  if (r.bundle) words.push(`--bundle ${r.bundle}`);
  if (r.lock) words.push(`--lock ${r.lock}`);
  if (r.playbook) words.push(`--playbook ${r.playbook}`);
  if (r.stateDir) words.push(`--state-dir ${r.stateDir}`);
  if (r.allowFailedCheck?.length) words.push(`--allow-failed-check ${r.allowFailedCheck.join(',')}`);
  return words.join(' ');
}

/** A delta bundle is not a bundle to install from: it is applied onto its base first. */
async function refuseDelta(dir: string, given: string): Promise<void> {
  if (!existsSync(join(dir, BundleLayout.delta))) return;
  throw new UserError(`--bundle ${given} is a delta bundle (it has ${BundleLayout.delta}): it carries only what changed since its base`, {
    hint: `apply it onto the bundle it was built against, then pass that directory: ferry bundle apply ${given} --onto BASE`,
  });
}

export async function runPlaybook(r: PlaybookRunRequest, env: PlaybookRunEnv): Promise<PlaybookRunResult> {
  const dryRun = r.dryRun === true;
  checkAllowedIds(r.allowFailedCheck ?? []);
  const invPath = resolve(env.cwd, r.inventory);
  const inventory = await loadInventory(invPath, { homeDir: env.homeDir, acceptNewHostKeys: r.acceptNewHostKeys === true });
  if (r.host !== undefined && !inventory.hosts.some((h) => h.name === r.host))
    throw new UserError(`--host ${r.host}: no such host in ${r.inventory}`, { hint: 'add the node to the inventory first, then run ferry add-node' });
  const bundleDir = r.bundle ? resolve(env.cwd, r.bundle) : undefined;
  if (bundleDir) {
    await requireBundleDir(bundleDir);
    await refuseDelta(bundleDir, r.bundle!);
  }
  const lockPath = r.lock ? resolve(env.cwd, r.lock) : bundleDir ? join(bundleDir, BundleLayout.lock) : undefined;
  // reset needs no lock; install needs one unless the playbook's phases do not (they say so themselves).
  const lock = lockPath && (r.command !== 'reset' || r.lock) ? await loadLock(lockPath) : undefined;
  const { playbook, source: playbookPath } = await readPlaybook(r.command, r.playbook ? resolve(env.cwd, r.playbook) : undefined);
  const registry = phaseRegistry({ doctorGate: r.command === 'install' });
  const planned = planPlaybook(playbookPhases(playbook), registry, playbookPath);
  // reset: the install playbook's undo phases, last phase first.
  const plan = r.command === 'reset' ? resetPlan(planned, registry) : planned;
  const layout = StateLayout.forInventory(invPath, inventory.name, r.stateDir ? resolve(env.cwd, r.stateDir) : undefined);
  const keep = { persist: !dryRun };
  if (!dryRun) await mkdir(layout.dir, { recursive: true });
  const held = dryRun ? { release: async () => {} } : await acquireInstallLock(layout.installLock, {
    pid: process.pid, hostname: hostname(), command: `ferry ${commandWords(r.command)}`, since: env.now().toISOString(),
  });
  const secrets: string[] = [];
  const addSecret = (s: string) => void secrets.push(s);
  const state = newRunState();
  const lastRecommendation = await readDoctorRecommendation(layout);
  if (lastRecommendation) state.doctorRecommendation = lastRecommendation;
  if (inventory.network.loadBalancer === 'vip') {
    state.vrrpPassword = await vrrpPassword(layout, keep);
    addSecret(state.vrrpPassword);
  }
  if (r.force) state.renewForce = true;
  if (r.command === 'install' || r.command === 'add-node') {
    const kubeadm = await kubeadmSecrets(layout, keep);
    // add-node joins with a token of its own, made here, created in the cluster for an hour, deleted by verify.
    const token = r.command === 'add-node' ? newBootstrapToken() : kubeadm.token;
    state.join = { token, certificateKey: kubeadm.certificateKey, ...(r.command === 'add-node' ? { ttl: '1h' } : {}) };
    // The token's id is a public name (kubeadm prints it); its secret half is what is redacted everywhere.
    addSecret(tokenSecret(token));
    addSecret(kubeadm.certificateKey);
  }
  let phase: string | undefined;
  const audit = (inner: Host) => new AuditHost(inner, {
    sink: (rec) => {
      if (!dryRun) appendFileSync(layout.audit, `${JSON.stringify({ ...rec, run: r.command })}\n`, { mode: 0o600 });
    },
    secrets: () => secrets, now: env.now, phase: () => phase,
  });
  const dryPlan = new DryRunPlan();
  const wrap = (name: string, live: Host): Host => (dryRun ? new DryRunHost(name, { plan: dryPlan, live }) : live);
  const set = connectInventory(inventory, {
    homeDir: env.homeDir, baseDir: dirname(invPath), agentSocket: env.agentSocket,
    hostKeyPolicy: r.acceptNewHostKeys ? 'accept-new' : 'strict',
  });
  const hosts = new Map<string, Host>();
  for (const [name, ssh] of set.hosts) hosts.set(name, wrap(name, audit(ssh)));
  const admin = wrap(ADMIN_HOST, audit(new LocalHost(ADMIN_HOST)));
  const ctx: PhaseContext = {
    inventory, ...(lock ? { lock } : {}), ...(bundleDir ? { bundleDir } : {}), state, admin, layout,
    addSecret, now: env.now, ...(r.allowFailedCheck ? { allowFailedChecks: r.allowFailedCheck } : {}), ...(dryRun ? { dryRun } : {}),
  };
  const progress = env.progress(plan.map((p) => p.phase));
  try {
    await runPhases(plan, ctx, {
      ...(r.only ? { only: r.only } : {}), ...(r.skip ? { skip: r.skip } : {}), dryRun,
      concurrency: inventory.ssh.concurrency, hostFor: (name) => hosts.get(name)!, ...(r.host ? { limit: new Set([r.host]) } : {}),
      onEvent: (e) => progress.onEvent(e), onPhase: (p) => (phase = p),
      recordTask: (host, what) => dryPlan.add({ host, kind: 'task', what }),
    });
  } catch (error) {
    if (error instanceof PhaseError)
      throw new PhaseError(error.phase, error.failures, {
        hint: `${error instanceof DoctorGateError ? `${error.hint}\n` : ''}fix the cause on ${[...error.failures.keys()].join(', ')}, then run the same command again (finished work is skipped): ${rerunCommand(r)}`,
        cause: error,
      });
    throw error;
  } finally {
    if (state.doctorRecommendation && !dryRun) await writeDoctorRecommendation(layout, state.doctorRecommendation);
    await progress.finish();
    await set.close();
    await held.release();
  }
  return {
    dryRun, plan: dryPlan.entries, hosts: [...inventory.hosts.map((h) => h.name), ...(dryPlan.entries.some((e) => e.host === ADMIN_HOST) ? [ADMIN_HOST] : [])],
    copied: Object.fromEntries(state.copied), warnings: state.warnings, ...(dryRun ? {} : { auditFile: layout.audit }),
  };
}
