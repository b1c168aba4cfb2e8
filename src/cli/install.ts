// `ferry install`, `ferry reset`, `ferry add-node` and `ferry upgrade` (and `ferry certs renew`'s run): parse the flags, show progress, print the result. The run
// itself (inputs, state layout, lock, connections, phases) is src/install/run.ts.
import { homedir } from 'node:os';
import type { Command } from 'commander';
import { runPlaybook, type PlaybookRunRequest, type PlaybookRunResult } from '../install/run.ts';
import type { PlaybookCommand } from '../install/playbooks.ts';
import type { RegisterCommand } from './commands.ts';
import { formatDryRunPlan } from './dry-run-plan.ts';
import type { CommandContext } from './program.ts';
import { jsonProgress, lineProgress, listrProgress } from './run-progress.ts';

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
  /** certs renew: renew whatever the expiry. */
  force?: boolean;
}

const list = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

export async function runPlaybookCommand(command: PlaybookCommand, o: RunOptions, ctx: CommandContext): Promise<void> {
  const { json, ...rest } = o;
  const request: PlaybookRunRequest = { command, ...rest };
  const result = await runPlaybook(request, {
    cwd: ctx.cwd, homeDir: ctx.env.HOME ?? homedir(), ...(ctx.env.SSH_AUTH_SOCK ? { agentSocket: ctx.env.SSH_AUTH_SOCK } : {}), now: ctx.now,
    progress: (phases) => (json ? jsonProgress(ctx.io) : ctx.io.stdout.isTTY ? listrProgress(phases) : lineProgress(ctx.io)),
  });
  report(ctx, json === true, result);
}

function report(ctx: CommandContext, json: boolean, r: PlaybookRunResult): void {
  if (json) {
    ctx.io.stdout.write(`${JSON.stringify({ type: 'summary', ok: true, dryRun: r.dryRun, copied: r.copied, warnings: r.warnings, ...(r.dryRun ? { plan: r.plan } : {}) })}\n`);
    return;
  }
  if (r.dryRun) ctx.io.stdout.write(`dry run: nothing was changed; the plan per host:\n${formatDryRunPlan(r.plan, r.hosts)}`);
  for (const [host, s] of Object.entries(r.copied)) ctx.io.stdout.write(`${host}: copied ${s.files} file(s), ${s.bytes} bytes in ${(s.ms / 1000).toFixed(1)}s\n`);
  for (const w of r.warnings) ctx.io.stderr.write(`warning: ${w}\n`);
  ctx.io.stdout.write(r.auditFile ? `done; every command is in ${r.auditFile}\n` : 'done\n');
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
    .option('--playbook <file>', 'install playbook to run instead of the built-in one (reset: the install playbook it reverses)')
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
  options(program.command('upgrade').description("upgrade the installed cluster to the new bundle's versions: gate (refusals change nothing), etcd snapshot, control planes one at a time, workers in batches (re-run resumes)"), true)
    .action((o: RunOptions) => runPlaybookCommand('upgrade', o, ctx));
};

/** The flags of `ferry certs renew` (the certs group registers it in certs.ts). */
export function certsRenewOptions(cmd: Command): Command {
  return options(cmd, false).option('--force', 'renew even when no certificate is within 30 days of expiry');
}
