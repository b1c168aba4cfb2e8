// `ferry etcd snapshot`: a consistent etcd snapshot from one control plane, fetched to the admin host with its sha256
// beside it. The commands are a plan (pure, below) carried out over a Host, so the audit log records each one.
//
// As etcd's and Kubernetes' docs take it (https://etcd.io/docs/v3.5/op-guide/recovery/#snapshotting-the-keyspace,
// https://kubernetes.io/docs/tasks/administer-cluster/configure-upgrade-etcd/#backing-up-an-etcd-cluster):
// `etcdctl snapshot save` against the local member over TLS, with kubeadm's etcd CA and a client certificate it
// signed (/etc/kubernetes/pki/etcd), then `etcdctl snapshot status` to read the file back. kubeadm installs no etcdctl
// on the host: where there is none, etcdctl runs from the etcd image the static pod already uses (`ctr run`).
import { createHash } from 'node:crypto';
import { UnexpectedOutputError } from '../errors.ts';
import type { Host } from '../hosts/host.ts';
import { sh, type ShellCommand } from '../hosts/shell.ts';

export const ETCD_ENDPOINT = 'https://127.0.0.1:2379';
export const ETCD_PKI = '/etc/kubernetes/pki/etcd';
/** Where the snapshot is written on the node before it is fetched (root-only; removed afterwards). */
export const NODE_SNAPSHOT_DIR = '/var/lib/ferry/etcd-snapshots';

export interface SnapshotStatus {
  hash: number;
  revision: number;
  totalKey: number;
  totalSize: number;
}

/** The file name of a snapshot taken at `now` from `host`: sortable, one per second and node. */
export function snapshotName(host: string, now: Date): string {
  return `etcd-${host}-${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}.db`;
}

/** etcdctl's TLS flags for kubeadm's local member (the healthcheck client certificate is kubeadm's etcd client). */
export function etcdctlArgs(): string[] {
  return [
    `--endpoints=${ETCD_ENDPOINT}`,
    `--cacert=${ETCD_PKI}/ca.crt`,
    `--cert=${ETCD_PKI}/healthcheck-client.crt`,
    `--key=${ETCD_PKI}/healthcheck-client.key`,
  ];
}

/** Where etcdctl comes from: the node's own, or the etcd image kubeadm's static pod runs (in containerd already). */
export type Etcdctl = { kind: 'host' } | { kind: 'image'; ref: string };

/** The read-only probe: `host` when the node has etcdctl, else `image <ref>` from kubeadm's etcd manifest when ctr is there. */
export const ETCDCTL_PROBE = sh`if command -v etcdctl >/dev/null 2>&1; then echo host; exit 0; fi
image=$(sed -n 's/^ *image: *//p' /etc/kubernetes/manifests/etcd.yaml 2>/dev/null | head -n 1)
if [ -n "$image" ] && command -v ctr >/dev/null 2>&1; then echo "image $image"; exit 0; fi
echo "no etcdctl on this node and no etcd image in /etc/kubernetes/manifests/etcd.yaml to run it from" >&2; exit 1`;

/** The probe's answer; undefined when it is neither form. */
export function parseEtcdctlProbe(stdout: string): Etcdctl | undefined {
  const line = stdout.trim();
  if (line === 'host') return { kind: 'host' };
  const m = /^image (\S+)$/.exec(line);
  return m ? { kind: 'image', ref: m[1]! } : undefined;
}

/** etcdctl with its arguments, run on the node or in a throwaway container of the etcd image (host network, the etcd
 * PKI read-only and the snapshot directory bound in, removed afterwards); `id` names that container. */
export function etcdctl(how: Etcdctl, id: string, args: readonly string[]): ShellCommand {
  if (how.kind === 'host') return sh`ETCDCTL_API=3 etcdctl ${args}`;
  return sh`ctr -n k8s.io run --rm --net-host --env ETCDCTL_API=3 --mount ${`type=bind,src=${ETCD_PKI},dst=${ETCD_PKI},options=rbind:ro`} --mount ${`type=bind,src=${NODE_SNAPSHOT_DIR},dst=${NODE_SNAPSHOT_DIR},options=rbind:rw`} ${how.ref} ${id} etcdctl ${args}`;
}

export interface SnapshotPlan {
  nodePath: string;
  /** Each command in order: what it does, and the command. */
  steps: { title: string; command: ShellCommand; readOnly?: boolean }[];
  cleanup: ShellCommand;
}

/** The node-side commands of one snapshot after the probe (pure). */
export function snapshotPlan(host: string, now: Date, how: Etcdctl = { kind: 'host' }): SnapshotPlan {
  const name = snapshotName(host, now);
  const nodePath = `${NODE_SNAPSHOT_DIR}/${name}`;
  const tls = etcdctlArgs();
  const id = (step: string) => `ferry-etcdctl-${step}-${name.replace(/\.db$/, '')}`;
  return {
    nodePath,
    steps: [
      { title: 'snapshot directory', command: sh`mkdir -p -m 0700 ${NODE_SNAPSHOT_DIR}` },
      { title: 'the local etcd member answers', command: etcdctl(how, id('health'), [...tls, 'endpoint', 'health']), readOnly: true },
      { title: 'snapshot save', command: etcdctl(how, id('save'), [...tls, 'snapshot', 'save', nodePath]) },
      { title: 'snapshot status', command: etcdctl(how, id('status'), ['snapshot', 'status', nodePath, '-w', 'json']), readOnly: true },
      { title: 'sha256 on the node', command: sh`sha256sum ${nodePath}`, readOnly: true },
    ],
    cleanup: sh`rm -f ${nodePath}`,
  };
}

/** `etcdctl snapshot status -w json` → its numbers (etcdctl prints {"hash","revision","totalKey","totalSize"}). */
export function parseSnapshotStatus(text: string): SnapshotStatus {
  const doc = JSON.parse(text.trim().split('\n').filter((l) => l.startsWith('{')).at(-1) ?? '{}') as Partial<SnapshotStatus>;
  for (const k of ['hash', 'revision', 'totalKey', 'totalSize'] as const)
    if (typeof doc[k] !== 'number') throw new UnexpectedOutputError(`etcdctl snapshot status printed no ${k}: ${text.trim().slice(0, 200)}`);
  return doc as SnapshotStatus;
}

export interface SnapshotResult {
  host: string;
  file: string;
  sha256: string;
  bytes: number;
  status: SnapshotStatus;
}

/** Takes the snapshot on `host`, returns its bytes and facts; the node's copy is removed whatever happens. */
export async function takeSnapshot(host: Host, now: Date): Promise<{ data: Buffer; result: Omit<SnapshotResult, 'file'>; name: string; etcdctl: Etcdctl }> {
  const probe = await host.exec(ETCDCTL_PROBE, { readOnly: true });
  const how = parseEtcdctlProbe(probe.stdout);
  if (!how) throw new UnexpectedOutputError(`${host.name}: the etcdctl probe printed ${JSON.stringify(probe.stdout.trim())}`);
  const plan = snapshotPlan(host.name, now, how);
  const out: string[] = [];
  try {
    for (const step of plan.steps) out.push((await host.exec(step.command, { ...(step.readOnly ? { readOnly: true } : {}), timeoutMs: 300_000 })).stdout);
    const status = parseSnapshotStatus(out[3]!);
    const nodeSha = out[4]!.trim().split(/\s+/)[0]!;
    const data = await host.readFile(plan.nodePath);
    const sha256 = createHash('sha256').update(data).digest('hex');
    if (sha256 !== nodeSha) throw new UnexpectedOutputError(`${host.name}: the fetched snapshot has sha256 ${sha256}, the node's file ${nodeSha}: the copy was damaged`);
    return { data, name: plan.nodePath.split('/').at(-1)!, result: { host: host.name, sha256, bytes: data.length, status }, etcdctl: how };
  } finally {
    await host.exec(plan.cleanup, { allowFailure: true });
  }
}
