// ferry install and reset end to end on lab nodes (3 control planes + 1 worker, Debian 12 under systemd-nspawn)
// with a real bundle built from the machine's apt sources: dry run, a node lost mid-install and the re-run that
// finishes, a second run with zero mutating commands, the VIP moving when its holder stops, and reset leaving
// the nodes as they were. One lab for the whole file.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { memoryIo, type Io } from '../../src/cli/io.ts';
import { run } from '../../src/cli/program.ts';
import type { AuditRecord } from '../../src/state/audit.ts';
import { startLab, type Lab } from '../lab/lab.ts';
import { addressIn } from '../lab/subnet.ts';
import { labBundle } from './support/lab-bundle.ts';
import { startApiStandIns, vipConnect, type ApiStandIns } from './support/api-stand-in.ts';

const NODES = ['cp1', 'cp2', 'cp3', 'w1'];
let lab: Lab;
let bundle: { dir: string; lockWithImages: string };
let inventory: string;
let stateDir: string;
let vip: string;
const before = new Map<string, { packages: string; etc: string }>();

async function ferry(argv: string[], io: Io & { out(): string; err(): string } = memoryIo()) {
  const started = performance.now();
  const code = await run(argv, { io, now: () => new Date(), cwd: process.cwd(), env: { HOME: process.env.HOME } });
  return { code, out: io.out(), err: io.err(), ms: Math.round(performance.now() - started) };
}

const installArgs = () => ['install', '-i', inventory, '--bundle', bundle.dir, '--lock', bundle.lockWithImages, '--state-dir', stateDir];

/** What reset must give back: the package list, and every path under /etc with its content hash or link target.
 * Left out: shadow's backups of the previous passwd/group/shadow/gshadow (`/etc/passwd-` ...), which every
 * useradd/userdel rewrites (the packages' system users come and go; the files themselves are compared). */
async function nodeState(node: string) {
  const packages = (await lab.nodeExec(node, ['dpkg-query', '-W', '-f', '${Package} ${Version} ${db:Status-Abbrev}\n'])).stdout;
  const etc = (await lab.nodeExec(node, ['sh', '-c', "find /etc -xdev \\( -name passwd- -o -name group- -o -name shadow- -o -name gshadow- \\) -prune -o \\( -type f -exec sha256sum {} + \\) -o \\( -type l -printf '%p -> %l\\n' \\) -o \\( -type d -printf '%p/\\n' \\) | sort"])).stdout;
  return { packages, etc };
}

async function audit(): Promise<AuditRecord[]> {
  const text = await readFile(join(stateDir, 'audit.jsonl'), 'utf8');
  return text.trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
}

beforeAll(async () => {
  lab = await startLab({ nodes: NODES });
  stateDir = join(lab.stateDir, 'ferry-state');
  const installed = (await lab.nodeExec('cp1', ['dpkg-query', '-W', '-f', '${Package}\n'])).stdout.split('\n').filter(Boolean);
  bundle = await labBundle(installed);
  vip = addressIn(lab.subnet, 100);
  inventory = await lab.writeInventory({
    roles: { cp1: ['control-plane'], cp2: ['control-plane'], cp3: ['control-plane'], w1: ['worker'] },
    // The lab kernel has no ipip (docs: LAB.md), so Calico runs VXLAN here.
    extra: { network: { controlPlaneEndpoint: `${vip}:8443`, encapsulation: 'vxlan' } },
  });
  for (const n of NODES) before.set(n, await nodeState(n));
});

afterAll(async () => {
  await lab?.stop();
});

describe('ferry install on lab nodes', () => {
  it('dry run reads the nodes, prints every step per host and changes nothing', async () => {
    const r = await ferry([...installArgs(), '--dry-run']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('dry run: nothing was changed');
    for (const n of NODES) expect(r.out).toMatch(new RegExp(`^${n}: \\d+ step\\(s\\)`, 'm'));
    expect(r.out).toMatch(/\$ apt-get -q -y .* install --no-install-recommends containerd runc/);
    for (const n of NODES) expect((await nodeState(n)).etc).toBe(before.get(n)!.etc);
    expect((await audit()).every((a) => a.readOnly === true)).toBe(true);
  });

  it('fails naming the node whose sshd stopped mid-install, and the same command then finishes', async () => {
    const io = memoryIo();
    let stopped: Promise<unknown> | undefined;
    const watching: Io & { out(): string; err(): string } = {
      ...io,
      stderr: {
        write: (t: string) => {
          // The progress line of the phase start is the callback: stop w1's sshd and its open sessions.
          if (t.startsWith('» os-prepare') && !stopped) stopped = lab.nodeExec('w1', ['systemctl', 'kill', '--signal=KILL', 'ssh']);
          return io.stderr.write(t);
        },
      },
    };
    const first = await ferry(installArgs(), watching);
    await stopped;
    expect(first.code, first.err).toBe(7);
    expect(first.err).toMatch(/phase (os-prepare|container-runtime|load-balancer) failed on 1 host\(s\):\n  w1: /);
    expect(first.err).toContain('hint: fix the cause on w1, then run the same command again');
    await lab.nodeExec('w1', ['systemctl', 'start', 'ssh']);
    const second = await ferry(installArgs());
    expect(second.code, second.err).toBe(0);
    console.log(`[install] 4 nodes, re-run after the failure: ${second.ms} ms`);
    for (const n of NODES) {
      expect((await lab.nodeExec(n, ['systemctl', 'is-active', 'containerd', 'ferry-firewall'])).stdout).toBe('active\nactive\n');
      expect((await lab.nodeExec(n, ['nft', 'list', 'table', 'inet', 'ferry'])).stdout).toContain('set cluster_nodes');
    }
    for (const n of ['cp1', 'cp2', 'cp3']) expect((await lab.nodeExec(n, ['systemctl', 'is-active', 'haproxy', 'keepalived'])).stdout).toBe('active\nactive\n');
  });

  it('a second run finds everything done and runs no mutating command', async () => {
    const start = (await audit()).length;
    const r = await ferry(installArgs());
    expect(r.code, r.err).toBe(0);
    const records = (await audit()).slice(start);
    expect(records.length).toBeGreaterThan(0);
    expect(records.filter((a) => a.readOnly !== true)).toEqual([]);
    const perHost = Object.fromEntries(NODES.map((n) => [n, records.filter((a) => a.host === n).length]));
    console.log(`[install] converged re-run: ${r.ms} ms, SSH round trips per host ${JSON.stringify(perHost)}`);
    expect(r.out).not.toMatch(/copied/);
  });

  describe('the API VIP', () => {
    let standIns: ApiStandIns;
    beforeAll(async () => {
      standIns = await startApiStandIns(lab, ['cp1', 'cp2', 'cp3'], 6443);
    });
    afterAll(async () => {
      await standIns?.stop();
    });

    it('answers through HAProxy, and moves when keepalived on its holder stops', async () => {
      // Right after the stand-ins start, the health checks are still failing or rising, and the VIP may sit on
      // any balancer for a moment; cp1 has the highest priority, so once healthy it must take (or keep) the VIP.
      let holder = await standIns.vipHolder(vip);
      for (let i = 0; i < 150 && holder !== 'cp1'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        holder = await standIns.vipHolder(vip);
      }
      expect(holder).toBe('cp1');
      expect(await vipConnect(vip, 8443)).toMatch(/^api-stand-in cp[123]$/);
      const t = performance.now();
      await lab.nodeExec(holder!, ['systemctl', 'stop', 'keepalived']);
      let next: string | undefined;
      for (let i = 0; i < 100 && (next === undefined || next === holder); i++) {
        await new Promise((r) => setTimeout(r, 100));
        next = await standIns.vipHolder(vip);
      }
      console.log(`[install] VIP moved from ${holder} to ${next} in ${Math.round(performance.now() - t)} ms`);
      expect(next).toBe('cp2');
      expect(await vipConnect(vip, 8443)).toMatch(/^api-stand-in cp[123]$/);
      await lab.nodeExec(holder!, ['systemctl', 'start', 'keepalived']);
    });
  });

  it('reset gives the nodes back as they were: same packages, same /etc', async () => {
    const r = await ferry(['reset', '-i', inventory, '--state-dir', stateDir]);
    expect(r.code, r.err).toBe(0);
    for (const n of NODES) {
      const after = await nodeState(n);
      expect(after.packages).toBe(before.get(n)!.packages);
      expect(after.etc).toBe(before.get(n)!.etc);
      expect((await lab.nodeExec(n, ['nft', 'list', 'table', 'inet', 'ferry'], { allowFailure: true })).exitCode).not.toBe(0);
      expect((await lab.nodeExec(n, ['test', '-e', '/var/lib/ferry'], { allowFailure: true })).exitCode).toBe(1);
    }
  });

  it('installs 1 node (node-local balancer) and 3 nodes (VIP) from clean (figures)', async () => {
    const doc = (await import('yaml')).parse(await readFile(inventory, 'utf8')) as { network: object; hosts: { name: string }[] };
    const write = async (name: string, hosts: string[], network: object) => {
      const path = join(lab.stateDir, name);
      await writeFile(path, stringify({ ...doc, name: name.replace('.yaml', ''), network: { ...doc.network, ...network }, hosts: doc.hosts.filter((h) => hosts.includes(h.name)) }));
      return path;
    };
    const args = (inv: string) => ['install', '-i', inv, '--bundle', bundle.dir, '--lock', bundle.lockWithImages, '--state-dir', join(stateDir, 'figures')];
    const single = await ferry(args(await write('one.yaml', ['cp1'], { loadBalancer: 'node-local' })));
    expect(single.code, single.err).toBe(0);
    expect((await lab.nodeExec('cp1', ['systemctl', 'is-active', 'haproxy'])).stdout).toBe('active\n');
    // node-local mode: HAProxy on loopback at the endpoint's port (render/node-files.ts), nothing on the VIP.
    expect((await lab.nodeExec('cp1', ['ss', '-Htln'])).stdout).toMatch(/127\.0\.0\.1:8443\b/);
    expect((await lab.nodeExec('cp1', ['systemctl', 'is-enabled', 'keepalived'], { allowFailure: true })).exitCode).not.toBe(0);
    const three = await ferry(args(await write('three.yaml', ['cp2', 'cp3', 'w1'], {})));
    expect(three.code, three.err).toBe(0);
    const lines = (await readFile(join(stateDir, 'figures', 'audit.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
    const trips = Object.fromEntries(NODES.map((n) => [n, lines.filter((a) => a.host === n && a.op === 'exec').length]));
    console.log(`[install] from clean: 1 node ${single.ms} ms, 3 nodes ${three.ms} ms; audited commands per host ${JSON.stringify(trips)}\n${single.out}${three.out}`);
    expect(three.out).toMatch(/^cp2: copied \d+ file\(s\), \d+ bytes/m);
  });
});
