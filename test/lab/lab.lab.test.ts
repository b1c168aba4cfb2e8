// The lab itself, booted for real: 3 nodes with strict SSH, unique identities, an air gap, containerd from carried
// .debs running a container, and a teardown that leaves nothing behind.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchDebs } from '../../src/lab/debs.ts';
import { isAlive } from '../../src/lab/file-lock.ts';
import { labSshArgv, startLab, type Lab } from '../../src/lab/lab.ts';
import { makeTinyImage } from '../../src/lab/oci-image.ts';
import { ensureBaseRootfs } from '../../src/lab/rootfs.ts';
import { cleanLeftoversSync } from '../../src/lab/teardown.ts';

const ssh = (lab: Lab, address: string, argv: string[], knownHosts = lab.knownHostsFile) => {
  const [file, ...args] = labSshArgv({ identityFile: lab.identityFile, knownHostsFile: knownHosts }, address, argv);
  return execa(file!, args, { reject: false });
};

/** What is left after a bounded wait: a process whose parent died is reaped by PID 1 a moment later. */
async function leftoversAfterReaping(prefix: string, stateDir: string): Promise<string[]> {
  for (let i = 0; i < 30; i++) {
    if (leftovers(prefix, stateDir).length === 0) return [];
    await new Promise((r) => setTimeout(r, 100));
  }
  return leftovers(prefix, stateDir);
}

/** Everything on the host that still mentions this lab: processes, mounts, cgroups, links, nft table, files. */
function leftovers(prefix: string, stateDir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(`/ferry-lab/${prefix}/`)) found.push(`process ${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')} ${readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.includes('pids'))}`);
    } catch {
      // exited while we looked
    }
  }
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n'))
    if (line.includes(stateDir)) found.push(`mount ${line.split(' ')[4]}`);
  for (const c of readdirSync('/sys/fs/cgroup'))
    if (existsSync(join('/sys/fs/cgroup', c, 'ferry-lab', prefix))) found.push(`cgroup ${c}/ferry-lab/${prefix}`);
  for (const link of readdirSync('/sys/class/net')) if (link.includes(prefix)) found.push(`link ${link}`);
  if (existsSync(stateDir)) found.push(`dir ${stateDir}`);
  return found;
}

describe('lab of 3 nodes', () => {
  let lab: Lab;
  let startMs = 0;
  beforeAll(async () => {
    const debs = await fetchDebs(['containerd']);
    await ensureBaseRootfs();
    const t = performance.now();
    lab = await startLab({ nodes: 3, debs });
    startMs = Math.round(performance.now() - t);
    console.log(`[lab] 3 nodes ready in ${startMs} ms (${lab.nodes.map((n) => `${n.name} ${n.bootMs} ms`).join(', ')})`);
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it('boots every node to running and answers over SSH with strict host-key checking', async () => {
    expect(lab.nodes.map((n) => n.name)).toEqual(['node1', 'node2', 'node3']);
    expect(lab.nodes.flatMap((n) => n.failedUnits)).toEqual([]);
    for (const n of lab.nodes) {
      const r = await ssh(lab, n.address, ['hostname']);
      expect(r.stdout.trim()).toBe(n.name);
    }
  });

  it('refuses a node whose key is not in known_hosts', async () => {
    const empty = join(lab.stateDir, 'empty_known_hosts');
    await execa('touch', [empty]);
    const r = await ssh(lab, lab.nodes[0]!.address, ['true'], empty);
    expect(r.exitCode).toBe(255);
    expect(r.stderr).toMatch(/Host key verification failed/);
  });

  it('gives each node its own machine-id and host key', async () => {
    const ids = await Promise.all(lab.nodes.map(async (n) => (await lab.nodeExec(n.name, ['cat', '/etc/machine-id'])).stdout.trim()));
    expect(ids.every((id) => /^[0-9a-f]{32}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(3);
    const keys = readFileSync(lab.knownHostsFile, 'utf8').split('\n').filter((l) => l.includes(' ssh-ed25519 '));
    expect(keys).toHaveLength(3);
    expect(new Set(keys.map((l) => l.split(' ')[2])).size).toBe(3);
    const fromNode = await lab.nodeExec('node2', ['cat', '/etc/ssh/ssh_host_ed25519_key.pub']);
    expect(keys.find((l) => l.startsWith(`${lab.nodes[1]!.address} `))).toContain(fromNode.stdout.split(' ')[1]);
  });

  it('lets nodes reach each other but nothing outside the bridge', async () => {
    for (const peer of lab.nodes.slice(1)) {
      const r = await lab.nodeExec('node1', ['ping', '-c1', '-W2', peer.address], { allowFailure: true });
      expect(r.exitCode).toBe(0);
      const tcp = await lab.nodeExec('node1', ['python3', '-c', `import socket; socket.create_connection(("${peer.address}", 22), 2).close()`], { allowFailure: true });
      expect(tcp.exitCode).toBe(0);
    }
    const route = JSON.parse((await execa('ip', ['-j', 'route', 'show', 'default'])).stdout) as { gateway?: string }[];
    const outside = route.find((r) => r.gateway)?.gateway;
    expect(outside, 'the host has a default gateway to stand for "outside"').toBeDefined();
    const noRoute = await lab.nodeExec('node1', ['ping', '-c1', '-W1', outside!], { allowFailure: true });
    expect(noRoute.exitCode).not.toBe(0);
    // Even with a default route through the host, nothing is forwarded off the bridge.
    await lab.nodeExec('node3', ['ip', 'route', 'add', 'default', 'via', lab.hostAddress]);
    const viaHost = await lab.nodeExec('node3', ['ping', '-c2', '-W1', outside!], { allowFailure: true });
    expect(viaHost.exitCode).not.toBe(0);
    await lab.nodeExec('node3', ['ip', 'route', 'del', 'default']);
  });

  it('installs containerd from the carried .debs and runs a container with a memory limit (systemd cgroup driver)', async () => {
    await lab.nodeExec('node1', ['sh', '-c', 'dpkg -i /debs/*.deb']);
    await lab.nodeExec('node1', ['systemctl', 'is-active', '--wait', 'containerd']).catch(async () =>
      lab.nodeExec('node1', ['systemctl', 'start', 'containerd']));
    const archive = await makeTinyImage((await ensureBaseRootfs()).dir, join(lab.nodes[0]!.root, 'root'), 'docker.io/ferry/tiny:1');
    expect(archive.startsWith(lab.nodes[0]!.root)).toBe(true);
    await lab.nodeExec('node1', ['ctr', 'images', 'import', '/root/tiny-image.tar']);
    const run = await lab.nodeExec('node1', [
      'ctr', 'run', '--rm', '--runc-systemd-cgroup', '--cgroup', 'system.slice:ferry:tiny1',
      '--mount', 'type=cgroup,src=cgroup,dst=/sys/fs/cgroup,options=ro', '--memory-limit', String(64 * 1024 * 1024), 'docker.io/ferry/tiny:1', 'tiny1',
      '/bin/sh', '-c', 'echo hello from a container; read limit < /sys/fs/cgroup/memory/memory.limit_in_bytes; echo "limit $limit"',
    ]);
    expect(run.stdout).toContain('hello from a container');
    expect(run.stdout).toContain(`limit ${64 * 1024 * 1024}`);
    const stored = readdirSync(join(lab.stateDir, 'node1', 'containerd'));
    expect(stored).toContain('io.containerd.content.v1.content');
  });

  it('powers one node off while the others keep answering', async () => {
    await lab.stopNode('node3');
    const down = await ssh(lab, lab.nodes[2]!.address, ['true']);
    expect(down.exitCode).toBe(255);
    const up = await ssh(lab, lab.nodes[1]!.address, ['true']);
    expect(up.exitCode).toBe(0);
  });

  it('tears down without leaving a process, mount, cgroup, link or file behind', async () => {
    const { prefix, stateDir } = lab;
    expect(leftovers(prefix, stateDir).length).toBeGreaterThan(0);
    await lab.stop();
    expect(leftovers(prefix, stateDir)).toEqual([]);
    const nft = await execa('nft', ['list', 'table', 'inet', prefix], { reject: false });
    expect(nft.exitCode).not.toBe(0);
    await lab.stop();
  });
});

describe('lab of 5 nodes', () => {
  it('boots 5 nodes in parallel; measures time and memory per node', async () => {
    const t = performance.now();
    const lab = await startLab({ nodes: 5 });
    try {
      const ms = Math.round(performance.now() - t);
      const mem = lab.nodes.map((n) => {
        const stat = readFileSync(`/sys/fs/cgroup/memory/ferry-lab/${lab.prefix}/${n.name}/memory.stat`, 'utf8');
        const rss = Number(/^total_rss (\d+)$/m.exec(stat)?.[1] ?? NaN);
        return Math.round(rss / 1024 / 1024);
      });
      console.log(`[lab] 5 nodes ready in ${ms} ms; RSS per node (MiB): ${mem.join(', ')}`);
      expect(lab.nodes).toHaveLength(5);
      expect(new Set(lab.nodes.map((n) => n.address)).size).toBe(5);
      expect(mem.every((m) => m > 1 && m < 200)).toBe(true);
    } finally {
      await lab.stop();
    }
  });
});

describe('two labs at once', () => {
  it('get their own names and subnets, and cannot reach each other', async () => {
    const [a, b] = await Promise.all([startLab({ nodes: 1 }), startLab({ nodes: 1 })]);
    try {
      expect(a!.prefix).not.toBe(b!.prefix);
      expect(a!.bridge).not.toBe(b!.bridge);
      expect(a!.subnet).not.toBe(b!.subnet);
      const across = await a!.nodeExec('node1', ['ping', '-c1', '-W1', b!.nodes[0]!.address], { allowFailure: true });
      expect(across.exitCode).not.toBe(0);
      const own = await b!.nodeExec('node1', ['ping', '-c1', '-W1', b!.hostAddress], { allowFailure: true });
      expect(own.exitCode).toBe(0);
    } finally {
      await Promise.all([a!.stop(), b!.stop()]);
    }
  });
});

describe('lab exit paths', () => {
  /** Start a lab in a child process (test/lab/hold-lab.ts) and return it once its node is up. */
  async function heldLab() {
    const child = execa(process.execPath, [join(import.meta.dirname, 'hold-lab.ts')], { reject: false, buffer: false, stdout: 'pipe' });
    const line = await new Promise<string>((resolve, reject) => {
      let acc = '';
      child.stdout!.on('data', (d: Buffer) => {
        acc += d.toString();
        if (acc.includes('\n')) resolve(acc.split('\n')[0]!);
      });
      void child.then(() => reject(new Error('hold-lab exited before its lab was up')));
    });
    return { child, ...(JSON.parse(line) as { prefix: string; stateDir: string; pid: number }) };
  }

  it('tears the lab down when the test process gets SIGTERM', async () => {
    const held = await heldLab();
    expect(leftovers(held.prefix, held.stateDir).length).toBeGreaterThan(0);
    const t = performance.now();
    process.kill(held.pid, 'SIGTERM');
    const r = await held.child;
    console.log(`[lab] SIGTERM to torn down in ${Math.round(performance.now() - t)} ms`);
    expect(r.exitCode).toBe(143);
    expect(await leftoversAfterReaping(held.prefix, held.stateDir)).toEqual([]);
  });

  it('cleans what a crashed (SIGKILLed) run left behind before the next lab starts', async () => {
    const held = await heldLab();
    process.kill(held.pid, 'SIGKILL');
    await held.child;
    expect(leftovers(held.prefix, held.stateDir).length).toBeGreaterThan(0);
    expect(cleanLeftoversSync(isAlive)).toContain(held.prefix);
    expect(await leftoversAfterReaping(held.prefix, held.stateDir)).toEqual([]);
    expect(existsSync(`/sys/class/net/${held.prefix}br`)).toBe(false);
  });
});
