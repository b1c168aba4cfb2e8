// The README's walkthrough end to end on lab nodes (3 control planes + 1 worker + 1 GPU worker, Debian 12 under
// systemd-nspawn):
// `ferry resolve`, `ferry bundle build` with the SHIPPED spec bundles/gpu-cluster.yaml against the offline replica of
// the upstream world (test/install/support/site-bundle.ts), `ferry bundle verify`, then `ferry install` from that
// bundle alone, a GPU lock (`--gpu h100`) and the GPU node's `--kernel`: Docker's containerd.io, pkgs.k8s.io's
// kubeadm/kubelet/kubectl (the STAND-INs of test/stand-ins,
// strict about every command and config field), HAProxy, keepalived, the registry binary from distribution's
// release archive, and every image pulled through the local registry the install deploys: the dry run, a node lost mid-install (in join-workers) and the re-run
// that finishes, a second run with zero mutating commands, every node Ready, the API through the VIP and after VIP
// failover, `ferry add-node` joining a sixth node (booted from the start, outside the first inventory), no bootstrap
// token left, and reset leaving the nodes as they were. One lab for the whole file.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { memoryIo, type Io } from '../../src/cli/io.ts';
import { run } from '../../src/cli/program.ts';
import type { AuditRecord } from '../../src/state/audit.ts';
import { startLab, type Lab } from '../lab/lab.ts';
import { addressIn } from '../lab/subnet.ts';
import { parseManifest } from '../../src/bundle/manifest.ts';
import { GPU_LABEL } from '../../src/render/gpu-addons.ts';
import { siteBundle, type SiteBundle } from './support/site-bundle.ts';

/** Three control planes behind the VIP, a worker, and a GPU worker (a STAND-IN H100 PCI entry, the driver from the
 * bundle through DKMS, the device plugin from the local registry). */
const NODES = ['cp1', 'cp2', 'cp3', 'g1', 'w1'];
/** The node add-node joins later: up from the start, absent from the install's inventory. */
const ADDED = 'w2';
const ALL = [...NODES, ADDED];
let lab: Lab;
let site: SiteBundle;
let inventory: string;
/** The inventory with the added node, as an operator edits it before `ferry add-node`. */
let inventoryWithAdded: string;
let stateDir: string;
let vip: string;
const before = new Map<string, { packages: string; etc: string }>();
const figures: string[] = [];

async function ferry(argv: string[], io: Io & { out(): string; err(): string } = memoryIo()) {
  const started = performance.now();
  const code = await run(argv, { io, now: () => new Date(), cwd: process.cwd(), env: { HOME: process.env.HOME } });
  return { code, out: io.out(), err: io.err(), ms: Math.round(performance.now() - started) };
}

// As the README says it: the lock is the bundle's own (ferry.lock.yaml inside it).
const installArgs = () => ['install', '-i', inventory, '--bundle', site.dir, '--state-dir', stateDir];
const kubectl = (...args: string[]) => ['kubectl', '--kubeconfig', '/etc/kubernetes/admin.conf', ...args];

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

async function vipHolder(): Promise<string | undefined> {
  for (const n of NODES) {
    const r = await lab.nodeExec(n, ['ip', '-o', '-4', 'addr', 'show'], { allowFailure: true });
    if (r.stdout.includes(` ${vip}/`)) return n;
  }
  return undefined;
}

beforeAll(async () => {
  lab = await startLab({ nodes: ALL });
  stateDir = join(lab.stateDir, 'ferry-state');
  // The GPU node's exact kernel goes to the build, as the README's GPU build says (the lab kernel has no Debian
  // headers package: the replica serves a stand-in one, docs/lab.md).
  const kernel = (await lab.nodeExec('g1', ['uname', '-r'])).stdout.trim();
  site = await siteBundle(join(lab.stateDir, 'walkthrough'), { gpu: { model: 'h100', kernels: [kernel], standInHeaders: [kernel] } });
  figures.push(`walkthrough (internet side): resolve ${site.timings.resolve} ms, replica up ${site.timings.replica} ms, bundle build ${site.reused ? 'reused (same inputs, built earlier in this run)' : `${site.timings.build} ms`}, verify ${site.timings.verify} ms`);
  vip = addressIn(lab.subnet, 100);
  inventoryWithAdded = await lab.writeInventory({
    roles: { cp1: ['control-plane'], cp2: ['control-plane'], cp3: ['control-plane'], w1: ['worker'], g1: ['worker', 'gpu'], [ADDED]: ['worker'] },
    // The lab kernel has no ipip (docs: LAB.md), so Calico runs VXLAN here.
    extra: { network: { controlPlaneEndpoint: `${vip}:8443`, encapsulation: 'vxlan' } },
  });
  const doc = parse(await readFile(inventoryWithAdded, 'utf8')) as { hosts: { name: string }[] };
  inventory = inventoryWithAdded.replace(/\.yaml$/, '-install.yaml');
  await writeFile(inventory, stringify({ ...doc, hosts: doc.hosts.filter((h) => h.name !== ADDED) }));
  // The GPU stand-in: one NVIDIA display controller (an H100 SXM5's ids) where the kernel lists PCI devices, in g1's
  // mount namespace only.
  const pci = '/sys/bus/pci/devices';
  const dev = `${pci}/0000:18:00.0`;
  const mount = await lab.nodeExec('g1', ['sh', '-c', `mount -t tmpfs -o size=64k ferry-gpu-stand-in ${pci} && mkdir ${dev} && echo 0x10de > ${dev}/vendor && echo 0x2330 > ${dev}/device && echo 0x030200 > ${dev}/class`]);
  expect(mount.exitCode, mount.stderr).toBe(0);
  for (const n of ALL) before.set(n, await nodeState(n));
}, 1_200_000);

afterAll(async () => {
  if (figures.length) console.log(`[install] figures:\n  ${figures.join('\n  ')}`);
  await site?.replica.stop();
  await lab?.stop();
});

describe('ferry install on lab nodes (Kubernetes through the stand-ins)', () => {
  it('dry run reads the nodes, prints every step per host and for the admin host, and changes nothing anywhere', async () => {
    // From clean, the joins need the CA kubeadm-init makes on cp1 (its pin is in the join config), and gpu-driver the
    // node's package repository (it asks apt what the bundle's repo offers for the node's kernel): the dry run plans
    // every other phase, the registry's CA and certificates on the admin host and its seeding (a task) included.
    const r = await ferry([...installArgs(), '--dry-run', '--skip', 'gpu-driver,join-control-planes,join-workers']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('dry run: nothing was changed');
    for (const n of NODES) expect(r.out).toMatch(new RegExp(`^${n}: \\d+ step\\(s\\)`, 'm'));
    const k8s = site.lock.stack.kubernetes.replaceAll('.', '\\.');
    expect(r.out).toMatch(new RegExp(`\\$ apt-get -q -y .* install --no-install-recommends kubeadm=${k8s}-1\\.1 kubelet=${k8s}-1\\.1 kubectl=${k8s}-1\\.1`));
    expect(r.out).toContain('$ kubeadm init --config /etc/ferry/kubeadm.yaml --upload-certs');
    // The registry's CA made on the admin host (owner-only), as every admin-side change is: a step, recorded here.
    expect(r.out).toMatch(/^admin host: \d+ step\(s\)$/m);
    expect(r.out).toMatch(/^  \$ sh -c .*umask 077.* openssl req -x509 .*registry-ca\/ca\.key /m);
    expect(r.out).toMatch(/^  task: seed /m);
    expect(r.out).toMatch(/\$ kubectl --kubeconfig \/etc\/kubernetes\/admin\.conf apply --server-side --force-conflicts -f /);
    for (const n of NODES) expect((await nodeState(n)).etc).toBe(before.get(n)!.etc);
    // Nothing on the admin host either: no state directory, no lock, no audit line, no secret file.
    expect(await readdir(stateDir).catch((e: NodeJS.ErrnoException) => e.code)).toBe('ENOENT');
  }, 300_000);

  it('fails naming the node whose sshd stopped in join-workers, and the same command then finishes', async () => {
    const io = memoryIo();
    let stopped: Promise<unknown> | undefined;
    const watching: Io & { out(): string; err(): string } = {
      ...io,
      stderr: {
        write: (t: string) => {
          // The progress line of the phase start is the callback: stop w1's sshd and its open sessions.
          if (t.startsWith('» join-workers') && !stopped) stopped = lab.nodeExec('w1', ['systemctl', 'kill', '--signal=KILL', 'ssh']);
          return io.stderr.write(t);
        },
      },
    };
    const first = await ferry(installArgs(), watching);
    await stopped;
    expect(first.code, first.err).toBe(7);
    expect(first.err).toMatch(/phase join-workers failed on 1 host\(s\):\n {2}w1: /);
    expect(first.err).toContain('hint: fix the cause on w1, then run the same command again');
    await lab.nodeExec('w1', ['systemctl', 'start', 'ssh']);
    const second = await ferry(installArgs());
    expect(second.code, second.err).toBe(0);
    figures.push(`install from clean, ${NODES.length} nodes: ${first.ms} ms up to the lost node in join-workers, then ${second.ms} ms for the re-run that finished`);
    const nodes = JSON.parse((await lab.nodeExec('cp1', kubectl('get', 'nodes', '-o', 'json'))).stdout) as { items: { metadata: { name: string }; status: { conditions: { type: string; status: string }[] } }[] };
    expect(nodes.items.map((n) => n.metadata.name).sort()).toEqual(NODES);
    for (const n of nodes.items) expect(n.status.conditions.find((c) => c.type === 'Ready')?.status, n.metadata.name).toBe('True');
    // The stand-ins' call log: every join used the config ferry placed, and w1 joined exactly once after the resume.
    const calls = (await lab.nodeExec('w1', ['cat', '/var/log/ferry-stand-in/calls.jsonl'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { tool: string; argv: string[]; exit: number });
    expect(calls.filter((c) => c.tool === 'kubeadm' && c.argv[0] === 'join').map((c) => [c.argv.join(' '), c.exit])).toEqual([['join --config /etc/ferry/kubeadm.yaml', 0]]);
  }, 900_000);

  it('every image the nodes run came from the local registry, by the one local name (the nodes have no route out)', async () => {
    const local = (ref: string) => `registry.ferry.internal:5000/${ref}`;
    const controlPlane = site.lock.images.filter((i) => /\/(kube-apiserver|kube-controller-manager|kube-scheduler|etcd):/.test(i.ref)).map((i) => local(i.ref));
    expect(controlPlane).toHaveLength(4);
    for (const n of NODES) {
      const listed = (await lab.nodeExec(n, ['ctr', '--namespace', 'k8s.io', 'images', 'ls', '-q'])).stdout.split('\n').filter(Boolean);
      // kubeadm's static pods on the control planes (tags pinned from the lock), calico-node everywhere (the bundle's
      // rewritten manifest), each pulled by the kubelet stand-in through the node's containerd and hosts.toml.
      if (n.startsWith('cp')) expect(listed, n).toEqual(expect.arrayContaining(controlPlane));
      expect(listed.some((r) => r.startsWith(local('docker.io/calico/node:'))), `${n}: ${listed.join(' ')}`).toBe(true);
    }
    // And every node, the worker too (it has no balancer, so registry-mirrors brought it curl), resolves every image
    // of the bundle by digest on every replica through its own TLS trust.
    const status = await ferry(['registry', 'status', '-i', inventory, '--bundle', site.dir, '--state-dir', stateDir]);
    expect(status.code, `${status.out}\n${status.err}`).toBe(0);
  });

  it('the GPU worker runs the locked driver and is labelled for the device plugin, which came from the local registry', async () => {
    const { version } = site.lock.stack.nvidiaDriver!;
    const smi = await lab.nodeExec('g1', ['nvidia-smi', '--query-gpu=name,driver_version', '--format=csv,noheader']);
    expect(smi.stdout.trim()).toBe(`NVIDIA H100 80GB HBM3, ${version}`);
    const node = JSON.parse((await lab.nodeExec('cp1', kubectl('get', 'node', 'g1', '-o', 'json'))).stdout) as { metadata: { labels: Record<string, string> } };
    expect(node.metadata.labels[GPU_LABEL.key]).toBe(GPU_LABEL.value);
    const plugin = site.lock.images.find((i) => i.component === 'nvidia-device-plugin')!.ref;
    const listed = (await lab.nodeExec('g1', ['ctr', '--namespace', 'k8s.io', 'images', 'ls', '-q'])).stdout.split('\n');
    expect(listed, listed.join(' ')).toContain(`registry.ferry.internal:5000/${plugin}`);
  });

  it('a second run finds everything done and runs no mutating command', async () => {
    const start = (await audit()).length;
    const r = await ferry(installArgs());
    expect(r.code, r.err).toBe(0);
    const records = (await audit()).slice(start);
    expect(records.length).toBeGreaterThan(0);
    expect(records.filter((a) => a.readOnly !== true)).toEqual([]);
    const perHost = Object.fromEntries(NODES.map((n) => [n, records.filter((a) => a.host === n).length]));
    figures.push(`converged re-run: ${r.ms} ms, SSH round trips per host ${JSON.stringify(perHost)}`);
    expect(r.out).not.toMatch(/copied/);
  }, 300_000);

  it('add-node joins one more worker with a token of its own, and verify deletes that token', async () => {
    const r = await ferry(['add-node', '-i', inventoryWithAdded, '--host', ADDED, '--bundle', site.dir, '--state-dir', stateDir]);
    expect(r.code, r.err).toBe(0);
    figures.push(`add-node ${ADDED}: ${r.ms} ms`);
    const nodes = JSON.parse((await lab.nodeExec('cp1', kubectl('get', 'nodes', '-o', 'json'))).stdout) as { items: { metadata: { name: string }; status: { conditions: { type: string; status: string }[] } }[] };
    expect(nodes.items.map((n) => n.metadata.name).sort()).toEqual(ALL);
    expect(nodes.items.find((n) => n.metadata.name === ADDED)!.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
    // It joined as a worker, with the config ferry placed, and nothing else of the cluster was re-joined.
    const calls = (await lab.nodeExec(ADDED, ['cat', '/var/log/ferry-stand-in/calls.jsonl'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { tool: string; argv: string[]; exit: number });
    expect(calls.filter((c) => c.tool === 'kubeadm' && c.argv[0] === 'join').map((c) => [c.argv.join(' '), c.exit])).toEqual([['join --config /etc/ferry/kubeadm.yaml', 0]]);
    const w1Calls = (await lab.nodeExec('w1', ['cat', '/var/log/ferry-stand-in/calls.jsonl'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { tool: string; argv: string[] });
    expect(w1Calls.filter((c) => c.tool === 'kubeadm' && c.argv[0] === 'join')).toHaveLength(1);
  }, 600_000);

  it('left no join credential behind: the bootstrap token is deleted', async () => {
    const list = await lab.nodeExec('cp1', ['kubeadm', 'token', 'list', '--kubeconfig', '/etc/kubernetes/admin.conf', '-o', 'json']);
    expect(list.stdout.trim()).toBe('');
    const token = (await readFile(join(stateDir, 'bootstrap-token'), 'utf8')).trim();
    expect(token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    // Never printed or logged: the audit log has its secret half redacted (the id before the dot is a public name).
    expect(await readFile(join(stateDir, 'audit.jsonl'), 'utf8')).not.toContain(token.slice(7));
  });

  it('the API answers through the VIP, and still does after the VIP moves', async () => {
    let holder = await vipHolder();
    for (let i = 0; i < 150 && holder !== 'cp1'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      holder = await vipHolder();
    }
    expect(holder).toBe('cp1');
    expect((await lab.nodeExec('cp1', kubectl('--server', `https://${vip}:8443`, 'get', '--raw', '/readyz'))).stdout.trim()).toBe('ok');
    const t = performance.now();
    await lab.nodeExec('cp1', ['systemctl', 'stop', 'keepalived']);
    let next: string | undefined;
    for (let i = 0; i < 100 && (next === undefined || next === 'cp1'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      next = await vipHolder();
    }
    figures.push(`VIP moved from cp1 to ${next} in ${Math.round(performance.now() - t)} ms`);
    expect(next).toBe('cp2');
    let answer = '';
    for (let i = 0; i < 30 && answer !== 'ok'; i++) {
      answer = (await lab.nodeExec('cp1', kubectl('--server', `https://${vip}:8443`, 'get', '--raw', '/readyz'), { allowFailure: true })).stdout.trim();
      if (answer !== 'ok') await new Promise((r) => setTimeout(r, 500));
    }
    expect(answer).toBe('ok');
    await lab.nodeExec('cp1', ['systemctl', 'start', 'keepalived']);
  }, 120_000);

  it('reset gives the nodes back as they were: same packages, same /etc', async () => {
    const r = await ferry(['reset', '-i', inventoryWithAdded, '--state-dir', stateDir]);
    expect(r.code, r.err).toBe(0);
    // The bundle is built from the archive as it is today, the lab node base from bookworm as released: installing
    // the bundle's packages can need a newer version of a base package (perl-base, say). Reset removes what install
    // added and cannot downgrade those (the old version is in no bundle): every package is still there, and a
    // version differs only where it is now exactly the bundle's (docs/install.md, "What reset gives back").
    const manifest = parseManifest(await readFile(join(site.dir, 'manifest.yaml'), 'utf8'), 'manifest.yaml');
    const bundled = new Map(manifest.artifacts.filter((a) => a.kind === 'package').map((a) => [a.name, a.version]));
    const upgraded = new Set<string>();
    for (const n of ALL) {
      const after = await nodeState(n);
      const lines = (t: string) => new Map(t.trim().split('\n').map((l) => [l.split(' ')[0]!, l] as const));
      const [was, now] = [lines(before.get(n)!.packages), lines(after.packages)];
      expect([...now.keys()], n).toEqual([...was.keys()]);
      for (const [name, line] of now) {
        if (line === was.get(name)) continue;
        expect(line, `${n}: ${name} changed, but not to the bundle's version`).toBe(`${name} ${bundled.get(name)} ii `);
        upgraded.add(name);
      }
      expect(after.etc, n).toBe(before.get(n)!.etc);
      expect((await lab.nodeExec(n, ['nft', 'list', 'table', 'inet', 'ferry'], { allowFailure: true })).exitCode).not.toBe(0);
      expect((await lab.nodeExec(n, ['test', '-e', '/var/lib/ferry'], { allowFailure: true })).exitCode).toBe(1);
    }
    figures.push(`reset: ${r.ms} ms; base packages left at the bundle's newer version: ${[...upgraded].sort().join(', ') || 'none'}`);
  }, 300_000);
});
