// `ferry install` and `ferry reset`: load the inventory, lock and playbook, take the install lock, connect (SSH,
// audited, recorded in a dry run), run the playbook's phases with progress, and say what to do after a failure.
import { appendFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { hostname, homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadInventory, loadLock, requireBundleDir } from '../config/inputs.ts';
import { playbookPhases } from '../config/playbook.ts';
import { BundleLayout } from '../bundle/layout.ts';
import { PhaseError, UserError } from '../errors.ts';
import { connectInventory } from '../hosts/connect.ts';
import { DryRunHost, DryRunPlan } from '../hosts/dry-run.ts';
import type { Host } from '../hosts/host.ts';
import { copyStats } from '../phases/copy-bundle.ts';
import { runWarnings } from '../phases/os-prepare.ts';
import { checkAllowedIds, DoctorGateError } from '../phases/doctor-gate.ts';
import { newBootstrapToken, tokenSecret } from '../phases/kube/join-secrets.ts';
import type { PhaseContext } from '../phases/phase.ts';
import { phaseRegistry } from '../phases/registry.ts';
import { VRRP_PASS_KEY } from '../phases/render-inputs.ts';
import { planPlaybook, runPhases } from '../phases/runner.ts';
import { AuditHost } from '../state/audit.ts';
import { readDoctorRecommendation, writeDoctorRecommendation } from '../state/doctor-recommendation.ts';
import { acquireInstallLock } from '../state/install-lock.ts';
import type { RegisterCommand } from './commands.ts';
import { formatDryRunPlan } from './dry-run-plan.ts';
import { readPlaybook, type PlaybookCommand } from './playbooks.ts';
import type { CommandContext } from './program.ts';
import { jsonProgress, lineProgress, listrProgress } from './run-progress.ts';
import { kubeadmSecrets, vrrpPassword } from './run-secrets.ts';

interface RunOptions {
  inventory: string;
  bundle?: string;
  lock?: string;
  dryRun?: boolean;
  only?: string[];
  skip?: string[];
  json?: boolean;
  acceptNewHostKeys?: boolean;
  stateDir?: string;
  playbook?: string;
  allowFailedCheck?: string[];
  /** add-node: the inventory host to add. */
  host?: string;
}


const list = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

/** The command line to run again after a failure (same inputs; finished work is skipped). */
export function rerunCommand(command: string, o: RunOptions): string {
  const words = [`ferry ${command}`, `-i ${o.inventory}`, ...(o.host ? [`--host ${o.host}`] : [])];
  if (o.bundle) words.push(`--bundle ${o.bundle}`);
  if (o.lock) words.push(`--lock ${o.lock}`);
  if (o.playbook) words.push(`--playbook ${o.playbook}`);
  if (o.stateDir) words.push(`--state-dir ${o.stateDir}`);
  if (o.allowFailedCheck?.length) words.push(`--allow-failed-check ${o.allowFailedCheck.join(',')}`);
  return words.join(' ');
}

async function runPlaybookCommand(command: PlaybookCommand, o: RunOptions, ctx: CommandContext): Promise<void> {
  checkAllowedIds(o.allowFailedCheck ?? []);
  const invPath = resolve(ctx.cwd, o.inventory);
  const homeDir = ctx.env.HOME ?? homedir();
  const inventory = await loadInventory(invPath, { homeDir, acceptNewHostKeys: o.acceptNewHostKeys === true });
  if (o.host !== undefined && !inventory.hosts.some((h) => h.name === o.host))
    throw new UserError(`--host ${o.host}: no such host in ${o.inventory}`, { hint: 'add the node to the inventory first, then run ferry add-node' });
  const bundleDir = o.bundle ? resolve(ctx.cwd, o.bundle) : undefined;
  if (bundleDir) await requireBundleDir(bundleDir);
  const lockPath = o.lock ? resolve(ctx.cwd, o.lock) : bundleDir ? join(bundleDir, BundleLayout.lock) : undefined;
  // reset needs no lock; install needs one unless the playbook's phases do not (they say so themselves).
  const lock = lockPath && (command !== 'reset' || o.lock) ? await loadLock(lockPath) : undefined;
  const { playbook, source: playbookPath } = await readPlaybook(command, o.playbook ? resolve(ctx.cwd, o.playbook) : undefined);
  const plan = planPlaybook(playbookPhases(playbook), phaseRegistry({ doctorGate: command === 'install' }), playbookPath);
  const stateDir = resolve(ctx.cwd, o.stateDir ?? join(dirname(invPath), '.ferry', inventory.name));
  await mkdir(stateDir, { recursive: true });
  const held = await acquireInstallLock(join(stateDir, 'install.lock'), {
    pid: process.pid, hostname: hostname(), command: `ferry ${command}`, since: ctx.now().toISOString(),
  });
  const secrets: string[] = [];
  const runCtx: PhaseContext = {
    inventory, ...(lock ? { lock } : {}), ...(bundleDir ? { bundleDir } : {}), state: {},
    addSecret: (s) => void secrets.push(s), now: ctx.now, stateDir, ...(o.allowFailedCheck ? { allowFailedChecks: o.allowFailedCheck } : {}),
  };
  const lastRecommendation = await readDoctorRecommendation(stateDir);
  if (lastRecommendation) runCtx.state.doctorRecommendation = lastRecommendation;
  if (inventory.network.loadBalancer === 'vip') {
    runCtx.state[VRRP_PASS_KEY] = await vrrpPassword(stateDir);
    runCtx.addSecret(runCtx.state[VRRP_PASS_KEY] as string);
  }
  if (command !== 'reset') {
    const kubeadm = await kubeadmSecrets(stateDir);
    // add-node joins with a token of its own, made here, created in the cluster for an hour, deleted by verify.
    const token = command === 'add-node' ? newBootstrapToken() : kubeadm.token;
    Object.assign(runCtx.state, { joinToken: token, certificateKey: kubeadm.certificateKey, ...(command === 'add-node' ? { joinTokenTtl: '1h' } : {}) });
    // The token's id is a public name (kubeadm prints it); its secret half is what is redacted everywhere.
    runCtx.addSecret(tokenSecret(token));
    runCtx.addSecret(kubeadm.certificateKey);
  }
  const auditFile = join(stateDir, 'audit.jsonl');
  let phase: string | undefined;
  const set = connectInventory(inventory, {
    homeDir, baseDir: dirname(invPath), agentSocket: ctx.env.SSH_AUTH_SOCK,
    hostKeyPolicy: o.acceptNewHostKeys ? 'accept-new' : 'strict',
  });
  const dryPlan = new DryRunPlan();
  const hosts = new Map<string, Host>();
  for (const [name, ssh] of set.hosts) {
    const audited = new AuditHost(ssh, {
      sink: (r) => appendFileSync(auditFile, `${JSON.stringify({ ...r, run: command, ...(o.dryRun ? { dryRun: true } : {}) })}\n`, { mode: 0o600 }),
      secrets: () => secrets, now: ctx.now, phase: () => phase,
    });
    hosts.set(name, o.dryRun ? new DryRunHost(name, { plan: dryPlan, live: audited }) : audited);
  }
  const progress = o.json ? jsonProgress(ctx.io) : ctx.io.stdout.isTTY ? listrProgress(plan.map((p) => p.phase)) : lineProgress(ctx.io);
  try {
    await runPhases(plan, runCtx, {
      ...(o.only ? { only: o.only } : {}), ...(o.skip ? { skip: o.skip } : {}),
      concurrency: inventory.ssh.concurrency, hostFor: (name) => hosts.get(name)!, ...(o.host ? { limit: new Set([o.host]) } : {}),
      onEvent: (e) => progress.onEvent(e), onPhase: (p) => (phase = p),
    });
  } catch (error) {
    if (error instanceof PhaseError)
      throw new PhaseError(error.phase, error.failures, {
        hint: `${error instanceof DoctorGateError ? `${error.hint}\n` : ''}fix the cause on ${[...error.failures.keys()].join(', ')}, then run the same command again (finished work is skipped): ${rerunCommand(command, o)}`,
        cause: error,
      });
    throw error;
  } finally {
    if (runCtx.state.doctorRecommendation && !o.dryRun) await writeDoctorRecommendation(stateDir, runCtx.state.doctorRecommendation);
    await progress.finish();
    await set.close();
    await held.release();
  }
  report(ctx, o, runCtx, dryPlan, inventory.hosts.map((h) => h.name), auditFile);
}

function report(ctx: CommandContext, o: RunOptions, runCtx: PhaseContext, dryPlan: DryRunPlan, hosts: string[], auditFile: string): void {
  const copied = Object.fromEntries(copyStats(runCtx));
  const warnings = runWarnings(runCtx);
  if (o.json) {
    ctx.io.stdout.write(`${JSON.stringify({ type: 'summary', ok: true, dryRun: o.dryRun === true, copied, warnings, ...(o.dryRun ? { plan: dryPlan.entries } : {}) })}\n`);
    return;
  }
  if (o.dryRun) ctx.io.stdout.write(`dry run: nothing was changed; the plan per host:\n${formatDryRunPlan(dryPlan.entries, hosts)}`);
  for (const [host, s] of Object.entries(copied)) ctx.io.stdout.write(`${host}: copied ${s.files} file(s), ${s.bytes} bytes in ${(s.ms / 1000).toFixed(1)}s\n`);
  for (const w of warnings) ctx.io.stderr.write(`warning: ${w}\n`);
  ctx.io.stdout.write(`done; every command is in ${auditFile}\n`);
}

function options(cmd: Command, needsBundle: boolean): Command {
  return cmd
    .requiredOption('-i, --inventory <file>', 'cluster.yaml (hosts, roles, SSH, VIP)')
    [needsBundle ? 'requiredOption' : 'option']('--bundle <dir>', 'the unpacked, verified bundle directory')
    .option('--lock <file>', 'lock file (default: ferry.lock.yaml in the bundle)')
    .option('--dry-run', 'read the nodes, change nothing, print every command and file per host')
    .option('--only <ids>', 'run only these phases (comma-separated, repeatable)', list)
    .option('--skip <ids>', 'skip these phases (comma-separated, repeatable)', list)
    .option('--json', 'progress and summary as JSON lines on stdout')
    .option('--accept-new-host-keys', 'record host keys never seen before in known_hosts (changed keys are still refused)')
    .option('--state-dir <dir>', 'install lock, audit log and cluster secrets (default: .ferry/<cluster> beside the inventory)')
    .option('--playbook <file>', 'playbook to run instead of the built-in one')
    .option('--allow-failed-check <ids>', "doctor check ids (as doctor prints them) whose failure preflight's gate only warns about", list);
}

/** Registers `ferry install`, `ferry reset` and `ferry add-node`. */
export const registerInstall: RegisterCommand = (program, ctx) => {
  options(program.command('install').description('install the cluster from the bundle over SSH, phase by phase (idempotent: re-run after a failure)'), true)
    .action((o: RunOptions) => runPlaybookCommand('install', o, ctx));
  options(program.command('reset').description('undo what install put on the nodes (packages, files, firewall table, units)'), false)
    .action((o: RunOptions) => runPlaybookCommand('reset', o, ctx));
  options(program.command('add-node').description("join one more inventory host to the installed cluster: that host's phases, a fresh one-hour token, verify"), false)
    .requiredOption('--host <name>', 'the inventory host to add (already in cluster.yaml)')
    .action((o: RunOptions) => runPlaybookCommand('add-node', o, ctx));
};
