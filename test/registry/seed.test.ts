// Seeding and verify against real replicas: Debian's docker-registry on ferry's rendered config, TLS with a CA made
// by src/registry/pki.ts (trusted by adding it to the process's CAs, never skip-verify), fixture images from umoci.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VerifyError } from '../../src/errors.ts';
import { LocalHost } from '../../src/hosts/local.ts';
import { RegistryClient } from '../../src/registry-client/client.ts';
import { layoutBlobPath, readLayoutPlan } from '../../src/registry/layout-files.ts';
import type { PlannedImage } from '../../src/registry/layout-plan.ts';
import { ensureRegistryCa } from '../../src/registry/pki.ts';
import { checkResolvable, seedReplica } from '../../src/registry/seed.ts';
import { trustRegistryCa } from '../../src/registry/trust.ts';
import { verifyReplica } from '../../src/registry/verify.ts';
import { BUNDLE_REFS, makeBundleLayout, makeReplicaPki, startReplica, type Replica } from './replica.ts';

let work: string;
let layout: string;
let plan: PlannedImage[];
let pki: Awaited<ReturnType<typeof makeReplicaPki>>;
const replicas: Replica[] = [];
const client = new RegistryClient({ retry: { attempts: 2, baseDelayMs: 50, maxDelayMs: 100 } });

function flipByte(path: string, at: number): void {
  const bytes = readFileSync(path);
  bytes[at] = bytes[at]! ^ 0x01;
  writeFileSync(path, bytes);
}

function blobOnDisk(replica: Replica, digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return join(replica.root, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ferry-seed-'));
  layout = await makeBundleLayout(join(work, 'fixtures'));
  plan = await readLayoutPlan(layout);
  pki = await makeReplicaPki(join(work, 'pki'));
  trustRegistryCa(pki.ca.certPem);
}, 120_000);

afterAll(async () => {
  for (const r of replicas) await r.stop();
  await rm(work, { recursive: true, force: true });
});

describe('registry PKI', () => {
  it('keeps the CA key 0600 and reuses the same CA on a second run', async () => {
    expect(statSync(pki.ca.keyPath).mode & 0o777).toBe(0o600);
    const again = await ensureRegistryCa(new LocalHost(), join(work, 'pki', 'ca'), 'test');
    expect(again.certPem).toBe(pki.ca.certPem);
  });

  it('issues a server certificate that openssl verifies against the CA, with the SANs asked for', () => {
    expect(execFileSync('openssl', ['verify', '-CAfile', pki.ca.certPath, pki.certFile], { encoding: 'utf8' })).toContain(': OK');
    const text = execFileSync('openssl', ['x509', '-in', pki.certFile, '-noout', '-ext', 'subjectAltName,extendedKeyUsage,basicConstraints'], { encoding: 'utf8' });
    expect(text).toContain('IP Address:127.0.0.1');
    expect(text).toContain('DNS:registry.ferry.internal');
    expect(text).toContain('TLS Web Server Authentication');
    expect(text).toContain('CA:FALSE');
  });
});

describe('seeding replicas from the bundle layout', () => {
  it('plans every image of index.json under the local naming convention, children before their index', () => {
    expect(plan.map((p) => p.ref).sort()).toEqual(Object.values(BUNDLE_REFS).map((r) => r.ref).sort());
    const multi = plan.find((p) => p.ref.endsWith('multi:1.0'))!;
    expect(multi.repository).toBe('registry.k8s.io/ferry/multi');
    expect(multi.manifests).toHaveLength(3);
    expect(multi.manifests.at(-1)!.digest).toBe(multi.digest);
    expect(plan.find((p) => p.repository === 'registry.k8s.io/ferry/app-a')!.critical).toBe(true);
  });

  it('pushes to two replicas, skips everything on a second run, and every manifest resolves on both', async () => {
    replicas.push(await startReplica(join(work, 'r1'), { ...pki, caPem: pki.ca.certPem }));
    replicas.push(await startReplica(join(work, 'r2'), { ...pki, caPem: pki.ca.certPem }));
    const first = await Promise.all(replicas.map((r) => seedReplica(client, r.host, layout, plan)));
    const distinct = new Set(plan.flatMap((p) => p.blobs.map((b) => b.digest))).size;
    for (const report of first) {
      expect(report.uploaded).toBe(distinct);
      expect(report.mounted).toBeGreaterThan(0);
      expect(report.manifests).toBe(plan.reduce((n, p) => n + p.manifests.length, 0));
    }
    const second = await seedReplica(client, replicas[0]!.host, layout, plan);
    expect(second.uploaded).toBe(0);
    expect(second.bytesUploaded).toBe(0);
    await checkResolvable(client, replicas.map((r) => r.host), plan);
  }, 60_000);

  it('serves TLS that only ferry CA vouches for (curl fails without it, passes with it)', () => {
    const url = `https://${replicas[0]!.host}/v2/`;
    const without = spawnSync('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', url], { encoding: 'utf8' });
    expect(without.status).toBe(60);
    const withCa = spawnSync('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', pki.ca.certPath, url], { encoding: 'utf8' });
    expect(withCa.stdout).toBe('200');
  });

  it('serves the images to skopeo by tag, verified against ferry CA only', async () => {
    // skopeo reads every *.crt in --cert-dir as a CA (and pairs *.key with a *.cert), so it gets ca.crt alone.
    const certDir = join(work, 'skopeo-certs');
    mkdirSync(certDir);
    copyFileSync(pki.ca.certPath, join(certDir, 'ca.crt'));
    const out = execFileSync('skopeo', ['inspect', '--raw', `--cert-dir=${certDir}`, `docker://${replicas[0]!.host}/quay.io/ferry/app-c:1.0`]);
    const image = plan.find((p) => p.ref === 'quay.io/ferry/app-c:1.0')!;
    expect(`sha256:${(await import('node:crypto')).createHash('sha256').update(out).digest('hex')}`).toBe(image.digest);
  });

  it('verify passes on intact replicas and finds one flipped byte in one layer on one replica', async () => {
    const clean = await Promise.all(replicas.map((r) => verifyReplica(client, r.host, plan)));
    for (const findings of clean) expect(findings.filter((f) => !f.ok)).toEqual([]);
    const layer = plan[0]!.blobs.at(-1)!;
    flipByte(blobOnDisk(replicas[1]!, layer.digest), Math.floor(layer.size / 2));
    const [a, b] = await Promise.all(replicas.map((r) => verifyReplica(client, r.host, plan)));
    expect(a!.filter((f) => !f.ok)).toEqual([]);
    const bad = b!.filter((f) => !f.ok);
    expect(bad).toHaveLength(1);
    expect(bad[0]!.subject).toContain(layer.digest);
    expect(bad[0]!.message).toContain('tampered');
  }, 60_000);

  it('stops with a VerifyError when a layout blob is damaged, before the registry stores it', async () => {
    const fresh = await startReplica(join(work, 'r3'), { ...pki, caPem: pki.ca.certPem });
    replicas.push(fresh);
    const layer = plan.find((p) => p.ref.includes('app-b'))!.blobs.at(-1)!;
    flipByte(layoutBlobPath(layout, layer.digest), 10);
    const error = await seedReplica(client, fresh.host, layout, plan, { retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 } }).catch((e: unknown) => e);
    flipByte(layoutBlobPath(layout, layer.digest), 10);
    expect(error).toBeInstanceOf(VerifyError);
    expect(String((error as Error).message)).toContain(layer.digest);
  }, 60_000);
});
