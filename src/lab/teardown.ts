// Tear a lab down by PID, synchronously, so the same code serves stop(), a failing test, process exit, SIGINT/SIGTERM
// and the cleaning of a crashed earlier run. Every process is checked to sit in this lab's cgroup before it is signalled.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where each lab keeps its files and state.json (on disk, so a crashed run can be cleaned by the next). */
export const STATE_ROOT = '/var/tmp/ferry-lab';
/** The host's cgroup mounts (v1 hybrid on the CI machines). */
export const CGROUP_ROOT = '/sys/fs/cgroup';
/** Every lab prefix looks like this; bridges are `<prefix>br`, machines `<prefix>-<node>`. */
export const PREFIX_PATTERN = /^fl[0-9a-f]{6}$/;

export interface NodeState {
  name: string;
  root: string;
  nspawnPid?: number;
  leaderPid?: number;
}

/** What a lab wrote down about itself, so that anyone can tear it down, even after its owner died. */
export interface LabState {
  prefix: string;
  ownerPid: number;
  bridge: string;
  stateDir: string;
  nodes: NodeState[];
  /** Left up on purpose (`ferry demo --keep`): no later lab cleans it; `ferry demo --down` does. */
  kept?: boolean;
}

/** Persist the state next to the lab's files (rewritten whenever a node starts). */
export function saveState(state: LabState): void {
  writeFileSync(join(state.stateDir, 'state.json'), JSON.stringify(state, null, 2));
}

/** The cgroup directory of a lab (or one node of it) in one v1 hierarchy. */
export function cgroupDir(controller: string, prefix: string, node?: string): string {
  return join(CGROUP_ROOT, controller, 'ferry-lab', prefix, ...(node ? [node] : []));
}

/** Hierarchies mounted under /sys/fs/cgroup (v1 controllers, the systemd named one, and unified). */
export function cgroupHierarchies(): string[] {
  return readdirSync(CGROUP_ROOT).filter((d) => existsSync(join(CGROUP_ROOT, d, 'cgroup.procs')));
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** A live (not zombie) process of this lab: a zombie waits only for its parent to reap it, which may be us. */
function inLabCgroup(pid: number, prefix: string): boolean {
  try {
    const state = /\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1];
    return state !== 'Z' && readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(`/ferry-lab/${prefix}/`);
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

function pidsInCgroup(dir: string): number[] {
  if (!existsSync(dir)) return [];
  const own = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  const subs = readdirSync(dir).filter((d) => statSync(join(dir, d)).isDirectory());
  return [...own, ...subs.flatMap((d) => pidsInCgroup(join(dir, d)))];
}

function removeCgroupTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const d of readdirSync(dir)) if (statSync(join(dir, d)).isDirectory()) removeCgroupTree(join(dir, d));
  try {
    rmdirSync(dir);
  } catch {
    // busy: a process is still in it; the caller reports leftovers
  }
}

function isMounted(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === path);
}

/** Power one node off (SIGTERM to nspawn, then SIGKILL after `graceMs`), unmount its root, remove its cgroups. */
export function stopNodesSync(prefix: string, nodes: readonly NodeState[], graceMs = 15_000): void {
  const pidsOf = (n: NodeState) =>
    [n.nspawnPid, n.leaderPid].filter((p): p is number => p !== undefined && inLabCgroup(p, prefix));
  for (const n of nodes) if (n.nspawnPid !== undefined && inLabCgroup(n.nspawnPid, prefix)) signal(n.nspawnPid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && nodes.some((n) => pidsOf(n).length > 0)) sleepSync(100);
  for (const n of nodes) {
    const left = [...pidsOf(n), ...pidsInCgroup(cgroupDir('pids', prefix, n.name))];
    for (const pid of left) if (inLabCgroup(pid, prefix)) signal(pid, 'SIGKILL');
  }
  const killDeadline = Date.now() + 5_000;
  const live = (n: NodeState) => pidsInCgroup(cgroupDir('pids', prefix, n.name)).filter((p) => inLabCgroup(p, prefix));
  while (Date.now() < killDeadline && nodes.some((n) => live(n).length > 0)) sleepSync(50);
  for (const n of nodes) {
    if (isMounted(n.root)) {
      if (spawnSync('umount', [n.root]).status !== 0) spawnSync('umount', ['-l', n.root]);
    }
    for (const c of cgroupHierarchies()) removeCgroupTree(cgroupDir(c, prefix, n.name));
  }
}

/** Tear down a whole lab: nodes, cgroups, host firewall table, bridge, files. Idempotent. */
export function teardownLabSync(state: LabState): void {
  stopNodesSync(state.prefix, state.nodes);
  for (const c of cgroupHierarchies()) removeCgroupTree(cgroupDir(c, state.prefix));
  spawnSync('nft', ['delete', 'table', 'inet', state.prefix]);
  if (existsSync(`/sys/class/net/${state.bridge}`)) spawnSync('ip', ['link', 'del', state.bridge]);
  rmSync(state.stateDir, { recursive: true, force: true });
}

/** Clean what crashed earlier labs left: any lab whose owner process is gone, and orphan bridges and cgroups. */
export function cleanLeftoversSync(isAlive: (pid: number) => boolean): string[] {
  const cleaned: string[] = [];
  const live = new Set<string>();
  const prefixes = existsSync(STATE_ROOT) ? readdirSync(STATE_ROOT).filter((p) => PREFIX_PATTERN.test(p)) : [];
  for (const prefix of prefixes) {
    const file = join(STATE_ROOT, prefix, 'state.json');
    let state: LabState | undefined;
    try {
      state = JSON.parse(readFileSync(file, 'utf8')) as LabState;
    } catch {
      state = undefined;
    }
    const young = Date.now() - statSync(join(STATE_ROOT, prefix)).mtimeMs < 60_000;
    if ((state && (state.kept === true || isAlive(state.ownerPid))) || (!state && young)) {
      live.add(prefix);
      continue;
    }
    teardownLabSync(state ?? { prefix, ownerPid: 0, bridge: `${prefix}br`, stateDir: join(STATE_ROOT, prefix), nodes: [] });
    cleaned.push(prefix);
  }
  for (const link of existsSync('/sys/class/net') ? readdirSync('/sys/class/net') : []) {
    const prefix = link.replace(/br$/, '');
    if (link.endsWith('br') && PREFIX_PATTERN.test(prefix) && !live.has(prefix)) {
      spawnSync('ip', ['link', 'del', link]);
      spawnSync('nft', ['delete', 'table', 'inet', prefix]);
      cleaned.push(link);
    }
  }
  for (const c of cgroupHierarchies()) {
    const dir = join(CGROUP_ROOT, c, 'ferry-lab');
    if (!existsSync(dir)) continue;
    for (const prefix of readdirSync(dir)) {
      if (PREFIX_PATTERN.test(prefix) && !live.has(prefix) && pidsInCgroup(join(dir, prefix)).length === 0) removeCgroupTree(join(dir, prefix));
    }
  }
  return cleaned;
}

/** The labs left up on purpose (`ferry demo --keep`), from their state files. */
export function keptLabsSync(): LabState[] {
  const prefixes = existsSync(STATE_ROOT) ? readdirSync(STATE_ROOT).filter((p) => PREFIX_PATTERN.test(p)) : [];
  const out: LabState[] = [];
  for (const prefix of prefixes) {
    try {
      const state = JSON.parse(readFileSync(join(STATE_ROOT, prefix, 'state.json'), 'utf8')) as LabState;
      if (state.kept === true) out.push(state);
    } catch {
      // A lab without a readable state file is not one that was kept.
    }
  }
  return out;
}
