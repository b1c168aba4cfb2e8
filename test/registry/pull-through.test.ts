// The proof on one node's container runtime: real containerd (CRI plugin on, ferry's rendered config.toml
// and hosts.toml) pulling from real replicas (docker-registry on ferry's rendered config, TLS from ferry's CA).
// Pulls by the upstream names go to the replicas only (there is no internet here); after a simulated image GC
// (CRI RemoveImage of every image, what kubelet's GC calls) every image pulls again through CRI, also with one and
// then two of three replicas down.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/registry-client/client.ts';
import { readLayoutPlan } from '../../src/registry/layout-files.ts';
import type { PlannedImage } from '../../src/registry/layout-plan.ts';
import { seedReplica } from '../../src/registry/seed.ts';
import { trustRegistryCa } from '../../src/registry/trust.ts';
import { renderContainerdHosts } from '../../src/render/containerd-hosts.ts';
import { criImageClient, type CriImageClient } from '../support/cri-client.ts';
import { makeBundleLayout, makeReplicaPki, startReplica, type Replica } from './replica.ts';
import { startNodeContainerd, type NodeContainerd } from './node-containerd.ts';

let work: string;
let plan: PlannedImage[];
let hostsDir: string;
let replicas: Replica[] = [];
let node: NodeContainerd;
let cri: CriImageClient;

async function simulatedGc(): Promise<number> {
  const images = await cri.list();
  for (const image of images) await cri.remove(image.id);
  return images.length;
}

async function pullAll(): Promise<{ ok: number; failed: string[] }> {
  const failed: string[] = [];
  let ok = 0;
  for (const image of plan) {
    try {
      expect(await cri.pull(image.ref)).toMatch(/^sha256:/);
      ok++;
    } catch (error) {
      failed.push(`${image.ref}: ${(error as Error).message}`);
    }
  }
  return { ok, failed };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ferry-pull-'));
  const layout = await makeBundleLayout(join(work, 'fixtures'));
  plan = await readLayoutPlan(layout);
  const pki = await makeReplicaPki(join(work, 'pki'));
  trustRegistryCa(pki.ca.certPem);
  for (const name of ['r1', 'r2', 'r3']) replicas.push(await startReplica(join(work, name), { ...pki, caPem: pki.ca.certPem }));
  const client = new RegistryClient();
  await Promise.all(replicas.map((r) => seedReplica(client, r.host, layout, plan)));
  hostsDir = join(work, 'certs.d');
  const files = renderContainerdHosts({
    registry: { name: 'registry.ferry.internal:5000', replicas: replicas.map((r) => r.host), caPath: pki.ca.certPath },
    images: plan.map((p) => p.ref),
    configPath: hostsDir,
  });
  for (const f of files) {
    await mkdir(dirname(f.path), { recursive: true });
    await writeFile(f.path, f.content);
  }
  node = await startNodeContainerd(join(work, 'node'), hostsDir, '1.6.20', 'registry.ferry.internal:5000/registry.k8s.io/pause:3.10');
  cri = criImageClient(node.socket);
}, 180_000);

afterAll(async () => {
  cri?.close();
  await node?.stop();
  for (const r of replicas) await r.stop();
  await rm(work, { recursive: true, force: true });
});

describe('pulling through the rendered hosts.toml', () => {
  it('ctr --hosts-dir pulls every bundle image by its upstream name from a local replica', async () => {
    for (const image of plan) {
      const r = await execa('ctr', ['--address', node.socket, '--namespace', 'ferry-ctr', 'images', 'pull', '--hosts-dir', hostsDir, image.ref], { reject: false, all: true });
      expect(r.exitCode, r.all).toBe(0);
    }
    const listed = await execa('ctr', ['--address', node.socket, '--namespace', 'ferry-ctr', 'images', 'ls', '-q']);
    expect(listed.stdout.split('\n').sort()).toEqual(plan.map((p) => p.ref).sort());
  }, 60_000);

  it('CRI PullImage (as kubelet) gets every image, with the digest the bundle has', async () => {
    const { ok, failed } = await pullAll();
    expect(failed).toEqual([]);
    expect(ok).toBe(plan.length);
    const digests = (await cri.list()).flatMap((i) => i.repoDigests);
    for (const image of plan) expect(digests).toContain(`${image.ref.replace(/:[^:/]+$/, '')}@${image.digest}`);
  }, 60_000);

  it('after a simulated GC every image pulls again, 0 failures', async () => {
    expect(await simulatedGc()).toBeGreaterThan(0);
    expect(await cri.list()).toEqual([]);
    // CRI deletes synchronously (content GC runs before RemoveImage returns): no layer is left to reuse.
    expect((await node.ctr(['content', 'ls', '-q'])).trim()).toBe('');
    const { ok, failed } = await pullAll();
    expect(failed).toEqual([]);
    expect(ok).toBe(plan.length);
  }, 60_000);

  it('with one, then two of three replicas stopped, GC then pull still succeeds through the rest', async () => {
    for (const down of [0, 1]) {
      await replicas[down]!.stop();
      await simulatedGc();
      const { failed } = await pullAll();
      expect(failed, `replicas stopped: ${down + 1}`).toEqual([]);
    }
    await simulatedGc();
    await replicas[2]!.stop();
    const { ok } = await pullAll();
    expect(ok, 'with every replica down nothing can pull (so the passes above came from the replicas)').toBe(0);
  }, 120_000);
});
