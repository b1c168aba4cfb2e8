// Boot one lab node: overlay root over the shared base, its own cgroups, systemd-nspawn on the lab bridge, and
// wait until its systemd says the boot finished. LAB.md lists the flags and why each is needed.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { cgroupDir, cgroupHierarchies, type NodeState } from './teardown.ts';

/** PATH for commands run inside a node. */
export const NODE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const BOOT_TIMEOUT_MS = 90_000;

export interface BootSpec {
  prefix: string;
  bridge: string;
  stateDir: string;
  baseDir: string;
  node: NodeState;
  address: string;
  hosts: string;
  publicKey: string;
  debs: string | undefined;
}

/** Start one node and wait for `systemctl is-system-running --wait` inside it; `persist` records PIDs as they appear. */
export async function bootNode(spec: BootSpec, persist: (exit?: Promise<unknown>, release?: () => void) => void): Promise<{ leaderPid: number; failedUnits: string[]; startedAt: number }> {
  const { prefix, node } = spec;
  const dir = join(spec.stateDir, node.name);
  for (const d of ['upper', 'work', 'root', 'containerd']) await mkdir(join(dir, d), { recursive: true });
  await execa('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${spec.baseDir},upperdir=${dir}/upper,workdir=${dir}/work`, node.root]);
  const root = node.root;
  await writeFile(join(root, 'etc/hostname'), `${node.name}\n`);
  await writeFile(join(root, 'etc/hosts'), `127.0.0.1 localhost\n${spec.hosts}\n`);
  await mkdir(join(root, 'etc/systemd/network'), { recursive: true });
  await writeFile(join(root, 'etc/systemd/network/10-ferry-host0.network'), `[Match]\nName=host0\n\n[Network]\nAddress=${spec.address}/24\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n`);
  await writeFile(join(root, 'root/.ssh/authorized_keys'), spec.publicKey, { mode: 0o600 });

  // Each node gets its own cgroup in every hierarchy before nspawn starts (there is no host systemd to do it).
  const cgroups: string[] = [];
  for (const c of cgroupHierarchies()) {
    const d = cgroupDir(c, prefix, node.name);
    await mkdir(d, { recursive: true });
    if (c === 'cpuset') {
      for (const level of [join(d, '../..'), join(d, '..'), d])
        for (const f of ['cpuset.cpus', 'cpuset.mems'])
          await writeFile(join(level, f), await readFile(join(level, '..', f), 'utf8'));
    }
    cgroups.push(d);
  }
  const nspawn = [
    'systemd-nspawn', '-q', '-D', root, '-M', `${prefix}-${node.name}`, '-b', '--register=no', '--keep-unit',
    '--private-users=no', '--link-journal=no', `--network-bridge=${spec.bridge}`, '--console=read-only',
    '--capability=all', '--system-call-filter=@keyring bpf', `--bind=${dir}/containerd:/var/lib/containerd`,
    ...(spec.debs ? [`--bind-ro=${spec.debs}:/debs`] : []),
  ];
  const startedAt = performance.now();
  const child = execa('sh', ['-c', 'while [ "$1" != -- ]; do echo $$ > "$1/cgroup.procs"; shift; done; shift; exec "$@"', 'sh', ...cgroups, '--', ...nspawn], {
    env: { SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: '0' }, stdin: 'ignore', stdout: { file: join(dir, 'console.log') }, stderr: { file: join(dir, 'nspawn.log') },
    reject: false, detached: false, cleanup: false,
  });
  node.nspawnPid = child.pid;
  let exited = false;
  const exit = child.then(() => {
    exited = true;
  });
  // release: stop waiting for nspawn, so a lab kept up (`ferry demo --keep`) lets this process exit.
  persist(exit, () => child.nodeChildProcess.unref());

  const deadline = Date.now() + BOOT_TIMEOUT_MS;
  const fail = async (why: string) =>
    new Error(`${node.name}: ${why}; nspawn log: ${(await readFile(join(dir, 'nspawn.log'), 'utf8').catch(() => '')).trim().slice(-500)}`);
  let leaderPid: number | undefined;
  while (leaderPid === undefined) {
    if (exited || Date.now() > deadline) throw await fail('nspawn did not start the node');
    leaderPid = await findLeader(child.pid!);
    if (leaderPid === undefined) await sleep(50);
  }
  node.leaderPid = leaderPid;
  persist();
  // The v1 controllers are mounted read-only inside the node; containerd needs them writable.
  await execa('nsenter', ['-t', String(leaderPid), '-m', 'sh', '-c',
    'for c in /sys/fs/cgroup/*; do mountpoint -q "$c" && mount -o remount,bind,rw "$c"; done; true']);
  const inNode = (argv: string[]) => execa('nsenter', ['-t', String(leaderPid), '-a', '--', 'env', '-i', `PATH=${NODE_PATH}`, ...argv], { reject: false });
  for (;;) {
    if (exited || Date.now() > deadline) throw await fail('did not finish booting');
    const r = await inNode(['timeout', '10', 'systemctl', 'is-system-running', '--wait']);
    const verdict = String(r.stdout).trim();
    if (verdict === 'running') return { leaderPid, failedUnits: [], startedAt };
    if (verdict === 'degraded') {
      const failed = await inNode(['systemctl', '--failed', '--plain', '--no-legend', '--no-pager']);
      return { leaderPid, failedUnits: String(failed.stdout).split('\n').map((l) => l.split(/\s+/)[0]!).filter(Boolean), startedAt };
    }
    await sleep(100);
  }
}

/** The node's PID 1 seen from the host: the child of nspawn that runs systemd. */
async function findLeader(nspawnPid: number): Promise<number | undefined> {
  const children = await readFile(`/proc/${nspawnPid}/task/${nspawnPid}/children`, 'utf8').catch(() => '');
  for (const pid of children.split(/\s+/).filter(Boolean).map(Number)) {
    const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
    if (comm.trim() === 'systemd') return pid;
  }
  return undefined;
}
