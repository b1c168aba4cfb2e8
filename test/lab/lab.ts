// The lab: real Debian 12 nodes on this machine (systemd-nspawn, own systemd, sshd, network namespace on a private
// bridge, no route out), booted in parallel and torn down by PID on every exit path. See LAB.md and docs/lab.md.
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { Inventory } from '../../src/config/inventory.ts';
import { isAlive } from './file-lock.ts';
import { ensureBaseRootfs } from './rootfs.ts';
import { addressIn, pickFreeSubnet, usedCidrs } from './subnet.ts';
import {
  STATE_ROOT, cgroupDir, cgroupHierarchies, cleanLeftoversSync, saveState, stopNodesSync, teardownLabSync,
  type LabState, type NodeState,
} from './teardown.ts';

export interface LabNode {
  name: string;
  address: string;
  /** nspawn leader PID (the node's systemd) */
  leaderPid: number;
  root: string;
  /** Units that failed during boot (the node came up `degraded`); empty when `running`. */
  failedUnits: string[];
  /** Milliseconds from spawning nspawn to `ssh root@ADDR systemctl is-system-running` answering. */
  bootMs: number;
}

export interface ExecOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface Lab {
  readonly prefix: string;
  readonly nodes: LabNode[];
  readonly bridge: string;
  /** The host's address on the bridge (nodes see the host, and only the host, at this address). */
  readonly hostAddress: string;
  readonly subnet: string;
  readonly stateDir: string;
  readonly identityFile: string;
  readonly knownHostsFile: string;
  /** Run argv inside a node as root via nsenter (no SSH), for test setup and inspection. */
  nodeExec(node: string, argv: string[], options?: { input?: string; allowFailure?: boolean }): Promise<ExecOutcome>;
  /** Write an inventory (cluster.yaml, schema src/config/inventory.ts) for these nodes; returns its path. */
  writeInventory(options?: { roles?: Record<string, string[]>; extra?: object }): Promise<string>;
  /** Power a node off (for "host down" tests). */
  stopNode(name: string): Promise<void>;
  /** Tear everything down, by PID; idempotent. */
  stop(): Promise<void>;
}

export interface StartLabOptions {
  nodes: number | string[];
  subnet?: string;
  /** host dir with .deb files, bind-mounted read-only at /debs in every node */
  debs?: string;
}

const NODE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const BOOT_TIMEOUT_MS = 90_000;

/** Argv for ssh from the host to a lab node, strict about host keys, no user config. */
export function labSshArgv(lab: Pick<Lab, 'identityFile' | 'knownHostsFile'>, address: string, argv: string[]): string[] {
  return [
    'ssh', '-F', '/dev/null', '-i', lab.identityFile, '-o', `UserKnownHostsFile=${lab.knownHostsFile}`,
    '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', `root@${address}`, ...argv,
  ];
}

/** Boot a lab of `nodes` (a count, or names); cleans leftovers of crashed earlier labs first. */
export async function startLab(options: StartLabOptions): Promise<Lab> {
  cleanLeftoversSync(isAlive);
  const base = await ensureBaseRootfs();
  const prefix = `fl${randomBytes(3).toString('hex')}`;
  const names = typeof options.nodes === 'number' ? Array.from({ length: options.nodes }, (_, i) => `node${i + 1}`) : options.nodes;
  const stateDir = join(STATE_ROOT, prefix);
  const bridge = `${prefix}br`;
  await mkdir(stateDir, { recursive: true });
  const state: LabState = {
    prefix, ownerPid: process.pid, bridge, stateDir,
    nodes: names.map((name) => ({ name, root: join(stateDir, name, 'root') })),
  };
  saveState(state);

  const onExit = () => teardownLabSync(state);
  const onSignal = (sig: NodeJS.Signals) => {
    teardownLabSync(state);
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.on('exit', onExit);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const detach = () => {
    process.off('exit', onExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  // nspawn is our child: once it exits, the event loop must reap it before its cgroups can go, so tear down,
  // wait for the exits, and sweep the (now empty) cgroups again.
  const exits = new Map<string, Promise<unknown>>();
  const reap = (names: readonly string[]) =>
    Promise.race([Promise.all(names.map((n) => exits.get(n))), sleep(5_000)]);
  const stop = async () => {
    teardownLabSync(state);
    await reap(names);
    teardownLabSync(state);
    detach();
  };

  try {
    const subnet = options.subnet ?? (await freeSubnet());
    const hostAddress = addressIn(subnet, 1);
    await execa('ip', ['link', 'add', bridge, 'type', 'bridge']);
    await execa('ip', ['addr', 'add', `${hostAddress}/24`, 'dev', bridge]);
    await execa('ip', ['link', 'set', bridge, 'up']);
    // No forwarding between the bridge and anything else on the host: the nodes stay air-gapped even if a test
    // gives them a default route.
    await execa('nft', ['-f', '-'], {
      input: `table inet ${prefix} {\n chain guard {\n  type filter hook forward priority 0; policy accept;\n` +
        `  iifname "${bridge}" oifname != "${bridge}" drop\n  oifname "${bridge}" iifname != "${bridge}" drop\n }\n}\n`,
    });
    const identityFile = join(stateDir, 'id_ed25519');
    const knownHostsFile = join(stateDir, 'known_hosts');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `ferry-lab-${prefix}`, '-f', identityFile]);
    await writeFile(knownHostsFile, '');
    const publicKey = await readFile(`${identityFile}.pub`, 'utf8');
    const addresses = names.map((_, i) => addressIn(subnet, 11 + i));
    const hosts = names.map((n, i) => `${addresses[i]} ${n}`).join('\n');

    const labFiles = { identityFile, knownHostsFile };
    const nodes = await Promise.all(
      state.nodes.map((n, i) =>
        bootNode({ prefix, bridge, stateDir, baseDir: base.dir, node: n, address: addresses[i]!, hosts, publicKey, debs: options.debs }, (exit) => {
          if (exit) exits.set(n.name, exit);
          saveState(state);
        }).then(async (booted) => {
          const keys = await execa('ssh-keyscan', ['-T', '5', addresses[i]!]);
          await appendFile(knownHostsFile, keys.stdout.endsWith('\n') ? keys.stdout : `${keys.stdout}\n`);
          const r = await execa(labSshArgv(labFiles, addresses[i]!, ['systemctl', 'is-system-running'])[0]!,
            labSshArgv(labFiles, addresses[i]!, ['systemctl', 'is-system-running']).slice(1), { reject: false });
          const verdict = r.stdout.trim();
          if (verdict !== 'running' && verdict !== 'degraded')
            throw new Error(`${n.name}: ssh systemctl is-system-running said "${verdict}" (${r.stderr.trim()})`);
          return { ...booted, bootMs: Math.round(performance.now() - booted.startedAt) };
        }),
      ),
    );
    const labNodes: LabNode[] = nodes.map((b, i) => ({
      name: names[i]!, address: addresses[i]!, leaderPid: b.leaderPid, root: state.nodes[i]!.root, failedUnits: b.failedUnits, bootMs: b.bootMs,
    }));
    for (const n of labNodes) if (n.failedUnits.length) console.warn(`[lab] ${n.name} is degraded: ${n.failedUnits.join(', ')}`);

    const find = (name: string) => {
      const i = state.nodes.findIndex((n) => n.name === name);
      if (i < 0) throw new Error(`no lab node named ${name} (have ${names.join(', ')})`);
      return { node: state.nodes[i]!, lab: labNodes[i]! };
    };
    return {
      prefix, nodes: labNodes, bridge, hostAddress, subnet, stateDir, identityFile, knownHostsFile,
      async nodeExec(name, argv, opts = {}) {
        const { lab } = find(name);
        const r = await execa('nsenter', ['-t', String(lab.leaderPid), '-a', '--', 'env', '-i', `PATH=${NODE_PATH}`, 'HOME=/root', 'LANG=C.UTF-8', ...argv], {
          reject: false, input: opts.input ?? '', stripFinalNewline: false,
        });
        const out = { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
        if (out.exitCode !== 0 && !opts.allowFailure) throw new Error(`${name}: ${argv.join(' ')} exited ${out.exitCode}: ${out.stderr.trim()}`);
        return out;
      },
      async writeInventory(opts = {}) {
        const roles = opts.roles ?? Object.fromEntries(names.map((n, i) => [n, [i === 0 ? 'control-plane' : 'worker']]));
        const doc: Record<string, unknown> = {
          apiVersion: 'ferry.dev/v1alpha1', kind: 'Cluster', name: prefix,
          ssh: { user: 'root', identity: identityFile, knownHosts: knownHostsFile },
          network: { controlPlaneEndpoint: `${addressIn(subnet, 100)}:6443` },
          hosts: labNodes.map((n) => ({ name: n.name, address: n.address, roles: roles[n.name] ?? ['worker'] })),
        };
        for (const [k, v] of Object.entries(opts.extra ?? {})) {
          const cur = doc[k];
          doc[k] = cur && typeof cur === 'object' && !Array.isArray(cur) && v && typeof v === 'object' && !Array.isArray(v) ? { ...cur, ...v } : v;
        }
        const checked = Inventory.safeParse(doc);
        if (!checked.success) throw new Error(`lab inventory does not match the schema: ${checked.error.message}`);
        const path = join(stateDir, 'cluster.yaml');
        await writeFile(path, stringify(doc));
        return path;
      },
      async stopNode(name) {
        stopNodesSync(prefix, [find(name).node]);
        await reap([name]);
        stopNodesSync(prefix, [find(name).node]);
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function freeSubnet(): Promise<string> {
  const addr = await execa('ip', ['-j', 'addr']);
  const route = await execa('ip', ['-j', 'route', 'show', 'table', 'all']);
  return pickFreeSubnet(usedCidrs(addr.stdout, route.stdout), Math.random());
}

interface BootSpec {
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

async function bootNode(spec: BootSpec, persist: (exit?: Promise<unknown>) => void): Promise<{ leaderPid: number; failedUnits: string[]; startedAt: number }> {
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
  persist(exit);

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
