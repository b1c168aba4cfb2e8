// `ferry certs check -i cluster.yaml [--json]`: on every control plane, over SSH (strict host keys), the expiry of
// each kubeadm-managed certificate and its verdict (warn under 30 days, fail under 7). Read-only; exit 4 on a
// failure, 5 when a control plane could not be reached. `ferry certs renew` runs playbooks/certs-renew.yaml (src/phases/certs-renew.ts).
import type { Command } from 'commander';
import { certsRenewOptions, runPlaybookCommand } from './install.ts';
import { checkHostCerts, type HostCerts } from '../certs/check.ts';
import { ExitCode, HostKeyError, HostUnreachableError } from '../errors.ts';
import type { RegisterCommand } from './commands.ts';
import { openControlPlanes } from './control-planes.ts';
import type { CommandContext } from './program.ts';

interface Flags {
  inventory: string;
  json?: boolean;
}

type HostResult = HostCerts | { host: string; error: string; unreachable: boolean };

function render(results: readonly HostResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    if ('error' in r) {
      lines.push(`${r.host}: ${r.unreachable ? 'UNREACHABLE' : 'FAIL'} ${r.error}`, '');
      continue;
    }
    lines.push(`${r.host} (${r.source}): ${r.status.toUpperCase()}`);
    const width = Math.max(...r.certificates.map((c) => c.name.length));
    for (const c of r.certificates) {
      lines.push(`  ${c.status.padEnd(4)}  ${c.name.padEnd(width)}  ${c.message}`);
      if (c.remedy) lines.push(`        ${' '.repeat(width)}  → ${c.remedy}`);
    }
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

async function check(ctx: CommandContext, flags: Flags): Promise<void> {
  const { controlPlanes, hosts } = await openControlPlanes(ctx, flags.inventory, 'certs check reads the certificates of the control planes');
  await using _ = hosts;
  const results: HostResult[] = await Promise.all(
    controlPlanes.map((h) =>
      checkHostCerts(hosts.hosts.get(h.name)!, ctx.now).catch((error: unknown) => ({
        host: h.name,
        error: (error as Error).message,
        unreachable: error instanceof HostUnreachableError || error instanceof HostKeyError,
      })),
    ),
  );
  ctx.io.stdout.write(flags.json ? `${JSON.stringify({ checkedAt: ctx.now().toISOString(), controlPlanes: results })}\n` : render(results));
  const unreachable = results.some((r) => 'error' in r && r.unreachable);
  const failed = results.some((r) => ('error' in r && !r.unreachable) || (!('error' in r) && r.status === 'fail'));
  ctx.setExitCode(unreachable ? ExitCode.hostUnreachable : failed ? ExitCode.checksFailed : ExitCode.ok);
}

/** Registers `ferry certs …`. */
export const registerCerts: RegisterCommand = (program: Command, ctx: CommandContext) => {
  const certs = program.command('certs').description('Control-plane certificates: expiry, renewal');
  certs
    .command('check')
    .description('expiry of every kubeadm certificate on every control plane: warn under 30 days, fail under 7 (exit 4)')
    .requiredOption('-i, --inventory <file>', 'cluster.yaml')
    .option('--json', 'one JSON document: per control plane, each certificate with its expiry and verdict')
    .action((flags: Flags) => check(ctx, flags));
  certsRenewOptions(certs.command('renew').description('renew kubeadm\'s certificates on each control plane in turn when any is within 30 days of expiry: restart the static pods, wait for the API, refresh the admin host\'s admin.conf'))
    .action((o: Parameters<typeof runPlaybookCommand>[1]) => runPlaybookCommand('certs-renew', o, ctx));
};
