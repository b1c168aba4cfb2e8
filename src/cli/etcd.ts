// `ferry etcd snapshot -i cluster.yaml --out DIR`: an etcd snapshot from the first control plane that can take one,
// written to DIR with its sha256 beside it (sha256sum format); the node's copy is removed. Every command is in the
// audit log (<state-dir>/audit.jsonl), as install's are. The restore procedure is in docs/day-two.md.
import { appendFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { takeSnapshot, type SnapshotResult } from '../etcd/snapshot.ts';
import { OperationFailedError } from '../errors.ts';
import { AuditHost } from '../state/audit.ts';
import type { RegisterCommand } from './commands.ts';
import { openControlPlanes } from './control-planes.ts';
import type { CommandContext } from './program.ts';

interface Flags {
  inventory: string;
  out: string;
  stateDir?: string;
  json?: boolean;
}

async function snapshot(ctx: CommandContext, flags: Flags): Promise<void> {
  const { inventoryPath: invPath, inventory, controlPlanes, hosts: set } = await openControlPlanes(ctx, flags.inventory, 'etcd runs on the control planes');
  await using _ = set;
  const outDir = resolve(ctx.cwd, flags.out);
  const stateDir = resolve(ctx.cwd, flags.stateDir ?? join(dirname(invPath), '.ferry', inventory.name));
  await mkdir(outDir, { recursive: true });
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const auditFile = join(stateDir, 'audit.jsonl');
  const skipped: string[] = [];
  for (const cp of controlPlanes) {
    const host = new AuditHost(set.hosts.get(cp.name)!, {
      sink: (r) => appendFileSync(auditFile, `${JSON.stringify({ ...r, run: 'etcd snapshot' })}\n`, { mode: 0o600 }),
      secrets: () => [],
      now: ctx.now,
      phase: () => 'etcd-snapshot',
    });
    let taken: Awaited<ReturnType<typeof takeSnapshot>>;
    try {
      taken = await takeSnapshot(host, ctx.now());
    } catch (error) {
      skipped.push(`${cp.name}: ${(error as Error).message.split('\n')[0]}`);
      ctx.io.stderr.write(`etcd snapshot: ${cp.name} could not take it, trying the next control plane: ${(error as Error).message.split('\n')[0]}\n`);
      continue;
    }
    const file = join(outDir, taken.name);
    await writeFile(`${file}.partial`, taken.data, { mode: 0o600 });
    await rename(`${file}.partial`, file);
    await writeFile(`${file}.sha256`, `${taken.result.sha256}  ${taken.name}\n`);
    const result: SnapshotResult & { etcdctl: string } = { ...taken.result, file, etcdctl: taken.etcdctl.kind === 'host' ? 'node' : `image ${taken.etcdctl.ref}` };
    ctx.io.stdout.write(
      flags.json
        ? `${JSON.stringify({ ...result, skipped })}\n`
        : `etcd snapshot from ${result.host} (etcdctl: ${result.etcdctl}): ${file} (${result.bytes} bytes, revision ${result.status.revision}, ${result.status.totalKey} keys, sha256 ${result.sha256}); every command is in ${auditFile}\n`,
    );
    return;
  }
  throw new OperationFailedError(`no control plane could take an etcd snapshot:\n  ${skipped.join('\n  ')}`, {
    hint: 'each control plane needs etcdctl (its own, or the etcd image of /etc/kubernetes/manifests/etcd.yaml in containerd) and its etcd member healthy at https://127.0.0.1:2379 (kubeadm certificates under /etc/kubernetes/pki/etcd)',
  });
}

/** Registers `ferry etcd …`. */
export const registerEtcd: RegisterCommand = (program: Command, ctx: CommandContext) => {
  const etcd = program.command('etcd').description('etcd of the control planes: snapshots (restore: docs/day-two.md)');
  etcd
    .command('snapshot')
    .description('etcdctl snapshot save on the first control plane that can, fetched to --out with its sha256; audited')
    .requiredOption('-i, --inventory <file>', 'cluster.yaml')
    .requiredOption('--out <dir>', 'directory on this machine for the snapshot and its .sha256')
    .option('--state-dir <dir>', 'where the audit log goes (default: .ferry/<cluster> beside the inventory)')
    .option('--json', 'the result as one JSON document')
    .action((flags: Flags) => snapshot(ctx, flags));
};
