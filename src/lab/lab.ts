// The lab: real Debian 12 nodes on this machine (systemd-nspawn, own systemd, sshd, network namespace on a private
// bridge, no route out), booted in parallel and torn down by PID on every exit path. See LAB.md and docs/lab.md.
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { Inventory } from '../config/inventory.ts';
import { UserError } from '../errors.ts';
import { mapPool } from '../util/map-pool.ts';
import { isAlive } from './file-lock.ts';
import { labMachineFacts, missingLabNeeds } from './needs.ts';
import { NODE_PATH, bootNode } from './node-boot.ts';
import { ensureBaseRootfs } from './rootfs.ts';
import { elRelease, ensureElRootfs } from './el/el-rootfs.ts';
import { addressIn, pickFreeSubnet, usedCidrs } from './subnet.ts';
import { STATE_ROOT, cleanLeftoversSync, saveState, stopNodesSync, teardownLabSync, type LabState } from './teardown.ts';

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
  /** Leave the lab up after this process exits (`ferry demo --keep`); `ferry demo --down` tears it down. */
  keep(): void;
}

export interface StartLabOptions {
  nodes: number | string[];
  subnet?: string;
  /** host dir with .deb files, bind-mounted read-only at /debs in every node */
  debs?: string;
  /** Nodes that boot as EL lab nodes instead of Debian 12: name → `rocky-9.4` (src/lab/el/el-rootfs.ts). */
  os?: Record<string, string>;
  /** Nodes booting at once (default BOOT_CONCURRENCY); the rest wait for a slot. */
  bootConcurrency?: number;
}

/**
 * Nodes that boot at once. Booting is CPU-bound (each node's systemd starts ~20 units); on the 2-core machine, 100
 * nodes started all at once starved each other past the boot deadline, while 8 at a time keep every node's boot
 * short and the total about the same (docs/scale.md has the figures).
 */
export const BOOT_CONCURRENCY = 8;
/** Lab nodes take .11 up in the /24; the VIP sits at .100 below 90 nodes, else at .254. */
export const MAX_LAB_NODES = 242;
/**
 * inotify instances each booted node holds: 7 measured (bench/lab-boot.ts counts the inotify fds of every process in
 * a node's cgroups). Every node runs as the host's root, so they all count against the host's
 * fs.inotify.max_user_instances, 128 by default: room for about 18 nodes.
 */
export const INOTIFY_PER_NODE = 8;

/**
 * Above this many nodes the lab's inventory gives SSH connects LAB_CONNECT_TIMEOUT_MS instead of the 10 s default:
 * all nodes share the machine's CPUs, and doctor on 100 lab nodes (load 13–44) had 7–36 hosts whose sshd did not
 * finish the key exchange within 10 s while 30 facts scripts ran (docs/scale.md). A site's nodes have their own CPUs.
 */
export const LAB_SLOW_CONNECT_ABOVE = 20;
export const LAB_CONNECT_TIMEOUT_MS = 60_000;

/** The VIP (controlPlaneEndpoint's host part) for a lab of `count` nodes: an address no node takes. */
export function labVipOctet(count: number): number {
  return 11 + count <= 100 ? 100 : 254;
}

/** fs.inotify.max_user_instances a lab of `count` nodes needs on the host, with room for the host's own users. */
export function inotifyInstancesNeeded(count: number, current: number, inUse: number): number {
  return Math.max(current, inUse + count * INOTIFY_PER_NODE + 128);
}


/** Argv for ssh from the host to a lab node, strict about host keys, no user config. */
export function labSshArgv(lab: Pick<Lab, 'identityFile' | 'knownHostsFile'>, address: string, argv: string[]): string[] {
  return [
    'ssh', '-F', '/dev/null', '-i', lab.identityFile, '-o', `UserKnownHostsFile=${lab.knownHostsFile}`,
    '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', `root@${address}`, ...argv,
  ];
}

/** Boot a lab of `nodes` (a count, or names); cleans leftovers of crashed earlier labs first. */
export async function startLab(options: StartLabOptions): Promise<Lab> {
  assertLabCanRun();
  cleanLeftoversSync(isAlive);
  const base = await ensureBaseRootfs();
  const elBases = new Map<string, string>();
  for (const os of new Set(Object.values(options.os ?? {}))) {
    const release = elRelease(os);
    if (!release) throw new UserError(`lab nodes can be Debian 12 or rocky-<release>, not ${os}`);
    elBases.set(os, (await ensureElRootfs(release)).dir);
  }
  const baseOf = (name: string) => elBases.get(options.os?.[name] ?? '') ?? base.dir;
  const prefix = `fl${randomBytes(3).toString('hex')}`;
  const names = typeof options.nodes === 'number' ? Array.from({ length: options.nodes }, (_, i) => `node${i + 1}`) : options.nodes;
  if (names.length > MAX_LAB_NODES) throw new UserError(`a lab holds at most ${MAX_LAB_NODES} nodes (one /24), not ${names.length}`);
  await raiseInotifyLimit(names.length);
  await raiseNeighbourLimit(names.length);
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
  const releases: (() => void)[] = [];
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
    const nodes = await mapPool(state.nodes, Math.max(1, options.bootConcurrency ?? BOOT_CONCURRENCY), (n, i) =>
        bootNode({ prefix, bridge, stateDir, baseDir: baseOf(n.name), node: n, address: addresses[i]!, hosts, publicKey, debs: options.debs }, (exit, release) => {
          if (exit) exits.set(n.name, exit);
          if (release) releases.push(release);
          saveState(state);
        }).then(async (booted) => {
          const keys = await execa('ssh-keyscan', ['-T', '5', addresses[i]!]);
          await appendFile(knownHostsFile, keys.stdout.endsWith('\n') ? keys.stdout : `${keys.stdout}\n`);
          const [ssh, ...args] = labSshArgv(labFiles, addresses[i]!, ['systemctl', 'is-system-running']);
          const r = await execa(ssh!, args, { reject: false });
          const verdict = r.stdout.trim();
          if (verdict !== 'running' && verdict !== 'degraded')
            throw new Error(`${n.name}: ssh systemctl is-system-running said "${verdict}" (${r.stderr.trim()})`);
          return { ...booted, bootMs: Math.round(performance.now() - booted.startedAt) };
        }),
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
          ssh: { user: 'root', identity: identityFile, knownHosts: knownHostsFile, ...(labNodes.length > LAB_SLOW_CONNECT_ABOVE ? { connectTimeoutMs: LAB_CONNECT_TIMEOUT_MS } : {}) },
          network: { controlPlaneEndpoint: `${addressIn(subnet, labVipOctet(labNodes.length))}:6443` },
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
      keep() {
        state.kept = true;
        saveState(state);
        detach();
        for (const release of releases) release();
      },
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Fails with one message naming everything the lab lacks on this machine (root, nspawn, debootstrap, tools). */
export function assertLabCanRun(): void {
  const missing = missingLabNeeds(labMachineFacts());
  if (missing.length > 0) throw new UserError(`the lab cannot run on this machine; missing:\n  ${missing.join('\n  ')}`, { hint: 'run as root on Debian 12 after bash scripts/setup.sh' });
}

/** Raise the host's fs.inotify.max_user_instances when this lab's nodes would run out of them (never lowers it). */
async function raiseInotifyLimit(count: number): Promise<void> {
  const file = '/proc/sys/fs/inotify/max_user_instances';
  const current = Number((await readFile(file, 'utf8')).trim());
  const inUse = await inotifyInstancesInUse();
  const wanted = inotifyInstancesNeeded(count, current, inUse);
  if (wanted > current) {
    await writeFile(file, `${wanted}\n`);
    console.warn(`[lab] raised fs.inotify.max_user_instances from ${current} to ${wanted} for ${count} nodes (${inUse} in use)`);
  }
}

/**
 * The kernel keeps one ARP table for all network namespaces, so every lab node's neighbours count against the host's
 * `gc_thresh2` (soft) and `gc_thresh3` (hard) caps: 512 and 1024 by default, while `count` nodes that all talk to each
 * other (doctor's pair probes) need about count² entries. Past the hard cap the kernel drops packets to peers it has
 * no entry for (#19: 3,100 failing directions at 50 nodes). The limit wanted for a kernel default `base`: the base
 * plus count², never below `current`.
 */
export function neighbourLimitNeeded(count: number, base: number, current: number): number {
  return Math.max(current, base + count * count);
}

const NEIGHBOUR_LIMITS = [['gc_thresh2', 512], ['gc_thresh3', 1024]] as const;

async function raiseNeighbourLimit(count: number): Promise<void> {
  for (const [name, base] of NEIGHBOUR_LIMITS) {
    const file = `/proc/sys/net/ipv4/neigh/default/${name}`;
    const current = Number((await readFile(file, 'utf8')).trim());
    const wanted = neighbourLimitNeeded(count, base, current);
    if (wanted > current) {
      await writeFile(file, `${wanted}\n`);
      console.warn(`[lab] raised net.ipv4.neigh.default.${name} from ${current} to ${wanted} for ${count} nodes`);
    }
  }
}

/** inotify instances open on the machine now (every /proc/PID/fd link to anon_inode:inotify). */
async function inotifyInstancesInUse(): Promise<number> {
  let n = 0;
  for (const pid of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(pid)) continue;
    for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [])) {
      if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')) === 'anon_inode:inotify') n++;
    }
  }
  return n;
}

async function freeSubnet(): Promise<string> {
  const addr = await execa('ip', ['-j', 'addr']);
  const route = await execa('ip', ['-j', 'route', 'show', 'table', 'all']);
  return pickFreeSubnet(usedCidrs(addr.stdout, route.stdout), Math.random());
}
