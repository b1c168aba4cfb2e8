// The proof on lab nodes (systemd-nspawn Debian 12, real systemd, containerd from Debian's .deb, no route
// out): `ferry registry deploy` over SSH installs the registry (Debian's docker-registry binary carried in the
// bundle's files/) as ferry-registry.service on three control-plane nodes, seeds them over the bridge, and points
// every node's containerd at them. Then: pulls by upstream name (ctr --hosts-dir, and CRI as kubelet) come from
// the replicas; a simulated GC then a CRI pull succeeds, also with one and two replicas stopped; pruning images
// leaves the registry service serving; one flipped byte on one replica's disk makes `ferry registry verify` exit 6.
import { copyFile, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryIo } from '../../src/cli/io.ts';
import { run } from '../../src/cli/program.ts';
import { ExitCode } from '../../src/errors.ts';
import { readLayoutPlan } from '../../src/registry/layout-files.ts';
import type { PlannedImage } from '../../src/registry/layout-plan.ts';
import { renderContainerdConfig } from '../../src/render/containerd.ts';
import { REGISTRY_ROOT } from '../../src/render/registry.ts';
import { fetchDebs } from '../lab/debs.ts';
import { startLab, type Lab } from '../lab/lab.ts';
import { criImageClient, type CriImageClient } from '../support/cri-client.ts';
import { makeBundleLayout } from './replica.ts';

let lab: Lab;
let work: string;
let bundle: string;
let inventory: string;
let plan: PlannedImage[];
let cri: CriImageClient;

async function ferry(...argv: string[]) {
  const io = memoryIo();
  const code = await run([...argv, '-i', inventory, '--state-dir', join(work, 'state')], { io, now: () => new Date(), cwd: work, env: { HOME: work } });
  return { code, out: io.out(), err: io.err() };
}

const node = (i: number) => lab.nodes[i]!.name;

async function simulatedGc(): Promise<void> {
  for (const image of await cri.list()) await cri.remove(image.id);
  expect(await cri.list()).toEqual([]);
}

async function pullFailures(): Promise<string[]> {
  const failed: string[] = [];
  for (const image of plan) await cri.pull(image.ref).catch((e: Error) => failed.push(`${image.ref}: ${e.message}`));
  return failed;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ferry-registry-lab-'));
  bundle = join(work, 'bundle');
  await mkdir(join(bundle, 'files'), { recursive: true });
  const layout = await makeBundleLayout(join(work, 'fixtures'));
  await rename(layout, join(bundle, 'images'));
  plan = await readLayoutPlan(join(bundle, 'images'));
  await copyFile('/usr/bin/docker-registry', join(bundle, 'files', 'registry'));
  const debs = await fetchDebs(['containerd', 'curl']);
  lab = await startLab({ nodes: 3, debs });
  inventory = await lab.writeInventory({ roles: { node1: ['control-plane'], node2: ['control-plane'], node3: ['control-plane'] } });
  const config = renderContainerdConfig({ version: '1.6.20', sandboxImage: 'registry.ferry.internal:5000/registry.k8s.io/pause:3.10' });
  await Promise.all(lab.nodes.map(async (n) => {
    await lab.nodeExec(n.name, ['sh', '-c', 'DEBIAN_FRONTEND=noninteractive dpkg -i /debs/*.deb >/dev/null']);
    await lab.nodeExec(n.name, ['sh', '-c', `cat > ${config.path} && systemctl restart containerd`], { input: config.content });
  }));
  cri = criImageClient(`/proc/${lab.nodes[2]!.leaderPid}/root/run/containerd/containerd.sock`);
}, 300_000);

afterAll(async () => {
  cri?.close();
  await lab?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('ferry registry on lab nodes', () => {
  it('deploys three replicas as a systemd service and status finds every image by digest from every node', async () => {
    const deployed = await ferry('registry', 'deploy', '--bundle', bundle);
    expect(deployed.code, deployed.err).toBe(ExitCode.ok);
    for (const n of lab.nodes) expect((await lab.nodeExec(n.name, ['systemctl', 'is-active', 'ferry-registry.service'])).stdout.trim()).toBe('active');
    const status = await ferry('registry', 'status');
    expect(status.code, status.out + status.err).toBe(ExitCode.ok);
    expect(status.out).toContain(`${3 * plan.length} manifest lookups, all 200`);
    const again = await ferry('registry', 'deploy', '--bundle', bundle);
    expect(again.err).toMatch(/registry node1: already-done/);
  }, 240_000);

  it('pulls every image by its upstream name through the rendered hosts.toml (ctr --hosts-dir)', async () => {
    for (const image of plan) {
      const r = await lab.nodeExec(node(1), ['ctr', '-n', 'ferry-ctr', 'images', 'pull', '--hosts-dir', '/etc/containerd/certs.d', image.ref], { allowFailure: true });
      expect(r.exitCode, r.stderr).toBe(0);
    }
  }, 120_000);

  it('CRI pulls all images; after a simulated GC they pull again, with 0 failures, also with one and two replicas down', async () => {
    expect(await pullFailures()).toEqual([]);
    await simulatedGc();
    expect(await pullFailures()).toEqual([]);
    for (const down of [0, 1]) {
      await lab.nodeExec(node(down), ['systemctl', 'stop', 'ferry-registry.service']);
      await simulatedGc();
      expect(await pullFailures(), `${down + 1} replica(s) stopped`).toEqual([]);
    }
    for (const i of [0, 1]) await lab.nodeExec(node(i), ['systemctl', 'start', 'ferry-registry.service']);
  }, 240_000);

  it('pruning every image on a node leaves the registry service untouched and serving', async () => {
    const n = node(2);
    await lab.nodeExec(n, ['sh', '-c', 'for ns in k8s.io ferry-ctr; do ctr -n $ns images ls -q | xargs -r ctr -n $ns images rm; done']);
    expect((await lab.nodeExec(n, ['sh', '-c', 'ctr -n k8s.io images ls -q; ctr -n ferry-ctr images ls -q'])).stdout.trim()).toBe('');
    expect((await lab.nodeExec(n, ['systemctl', 'is-active', 'ferry-registry.service'])).stdout.trim()).toBe('active');
    const address = lab.nodes[2]!.address;
    const served = await lab.nodeExec(n, ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', '/etc/ferry/registry/ca.crt', `https://${address}:5000/v2/`]);
    expect(served.stdout).toBe('200');
  }, 60_000);

  it('registry verify passes, then finds one flipped byte in one layer on one replica (exit 6)', async () => {
    const clean = await ferry('registry', 'verify');
    expect(clean.code, clean.out + clean.err).toBe(ExitCode.ok);
    const layer = plan[0]!.blobs.at(-1)!;
    const hex = layer.digest.slice(7);
    const path = `${REGISTRY_ROOT}/docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`;
    await lab.nodeExec(node(1), ['python3', '-c', `import sys\nf=open(sys.argv[1],'r+b'); f.seek(${Math.floor(layer.size / 2)}); b=f.read(1); f.seek(-1,1); f.write(bytes([b[0]^1])); f.close()`, path]);
    const tampered = await ferry('registry', 'verify');
    expect(tampered.code).toBe(ExitCode.verifyFailed);
    expect(tampered.out).toContain(`${lab.nodes[1]!.address}:5000`);
    expect(tampered.out).toContain(layer.digest);
    expect(tampered.out).not.toContain(`${lab.nodes[0]!.address}:5000`);
  }, 120_000);
});
