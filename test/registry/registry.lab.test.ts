// The proof on lab nodes (systemd-nspawn Debian 12, real systemd, no route out), from the README
// walkthrough's bundle (test/install/support/site-bundle.ts: resolve, bundle build with the shipped spec against the
// upstream replica, verify): `ferry install --only preflight,...,container-runtime,load-balancer` puts the bundle's
// containerd.io (and HAProxy, keepalived, curl) on three control-plane nodes, then `ferry registry deploy` over SSH
// installs the registry (the bundle's files/registry/<version>/registry, from distribution's release archive, found
// through the manifest) as ferry-registry.service on them, seeds them with the lock's images over the bridge, and
// points every node's containerd at them. Then: pulls by upstream name (ctr --hosts-dir, and CRI as kubelet) come
// from the replicas; a simulated GC then a CRI pull succeeds, also with one and two replicas stopped; pruning images
// leaves the registry service serving; one flipped byte on one replica's disk makes `ferry registry verify` exit 6.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryIo } from '../../src/cli/io.ts';
import { run } from '../../src/cli/program.ts';
import { ExitCode } from '../../src/errors.ts';
import { BundleLayout } from '../../src/bundle/layout.ts';
import { readLayoutPlan } from '../../src/registry/layout-files.ts';
import type { PlannedImage } from '../../src/registry/layout-plan.ts';
import { REGISTRY_BINARY } from '../../src/phases/local-registry.ts';
import { REGISTRY_ROOT } from '../../src/render/registry.ts';
import { siteBundle, siteManifest, type SiteBundle } from '../install/support/site-bundle.ts';
import { startLab, type Lab } from '../lab/lab.ts';
import { addressIn } from '../lab/subnet.ts';
import { criImageClient, type CriImageClient } from '../support/cri-client.ts';

/**
 * The install's node phases, as a site has them before `ferry registry deploy`: containerd from the bundle, and the
 * balancer on the control planes, whose packages bring the curl that `ferry registry status` checks from each node
 * with (Debian's minimal base has none).
 */
const NODE_PHASES = 'preflight,copy-bundle,local-repo,os-prepare,container-runtime,load-balancer';
let lab: Lab;
let work: string;
let site: SiteBundle;
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
  [lab, site] = await Promise.all([startLab({ nodes: 3 }), siteBundle(join(work, 'walkthrough'))]);
  bundle = site.dir;
  plan = await readLayoutPlan(join(bundle, BundleLayout.imagesDir));
  // As in the install test: the VIP's port is not kube-apiserver's 6443 (HAProxy shares the control planes), and
  // Calico runs VXLAN (the lab kernel has no ipip module for os-prepare to load).
  const network = { controlPlaneEndpoint: `${addressIn(lab.subnet, 100)}:8443`, encapsulation: 'vxlan' };
  inventory = await lab.writeInventory({ roles: { node1: ['control-plane'], node2: ['control-plane'], node3: ['control-plane'] }, extra: { network } });
  const runtime = await ferry('install', '--bundle', bundle, '--only', NODE_PHASES);
  if (runtime.code !== 0) throw new Error(`ferry install --only ${NODE_PHASES} exited ${runtime.code}\n${runtime.err}`);
  cri = criImageClient(`/proc/${lab.nodes[2]!.leaderPid}/root/run/containerd/containerd.sock`);
}, 600_000);

afterAll(async () => {
  cri?.close();
  await site?.replica.stop();
  await lab?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('ferry registry on lab nodes', () => {
  it('deploys three replicas as a systemd service and status finds every image by digest from every node', async () => {
    const deployed = await ferry('registry', 'deploy', '--bundle', bundle);
    expect(deployed.code, deployed.err).toBe(ExitCode.ok);
    // The binary that runs is the one the bundle's manifest names (distribution's release, as the spec fetched it).
    const binary = (await siteManifest(site)).artifacts.find((a) => a.kind === 'file' && a.name === 'registry')!;
    expect(binary.path).toMatch(/^files\/registry\/[\d.]+\/registry$/);
    for (const n of lab.nodes) {
      expect((await lab.nodeExec(n.name, ['systemctl', 'is-active', 'ferry-registry.service'])).stdout.trim()).toBe('active');
      expect((await lab.nodeExec(n.name, ['sha256sum', REGISTRY_BINARY])).stdout.split(' ')[0]).toBe(binary.sha256);
    }
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
    const get = "import ssl, sys, urllib.request\nprint(urllib.request.urlopen(sys.argv[1], context=ssl.create_default_context(cafile=sys.argv[2])).status, end='')";
    const served = await lab.nodeExec(n, ['python3', '-c', get, `https://${address}:5000/v2/`, '/etc/ferry/registry/ca.crt']);
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
