// Test helper: a local registry replica as ferry deploys it — Debian's docker-registry (distribution 2.8) run on
// the config.yml that src/render/registry.ts renders (TLS with ferry's CA-signed certificate, deletes off), on a
// loopback port. Also builds a bundle-shaped OCI layout from the umoci fixtures. Stopped by PID.
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CRITICAL, REF_NAME } from '../../src/bundle/sources/oci-layout.ts';
import { LocalHost } from '../../src/hosts/local.ts';
import { ensureRegistryCa, issueServerCertificate, type RegistryCa } from '../../src/registry/pki.ts';
import { renderRegistry } from '../../src/render/registry.ts';
import { pushFixtures } from '../support/fixture-images.ts';
import { freePort, stopChild } from '../support/registry.ts';

export interface Replica {
  /** `127.0.0.1:PORT` */
  host: string;
  /** The rendered config's storage root. */
  root: string;
  stop: () => Promise<void>;
}

/** Fixture tag in the umoci layout → the full reference it stands for in the bundle (as index.json names it). */
export const BUNDLE_REFS: Record<string, { ref: string; critical?: boolean }> = {
  'app-a': { ref: 'registry.k8s.io/ferry/app-a:1.0', critical: true },
  'app-b': { ref: 'docker.io/ferry/app-b:1.0' },
  'app-c': { ref: 'quay.io/ferry/app-c:1.0' },
  multi: { ref: 'registry.k8s.io/ferry/multi:1.0' },
};

/** Builds the umoci fixtures (layers of `layerBytes` random bytes) and rewrites index.json the way a bundle has it. */
export async function makeBundleLayout(work: string, layerBytes = 64 * 1024): Promise<string> {
  const layout = await pushFixtures(work, { host: '127.0.0.1:1', layerBytes, only: [] });
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: { annotations?: Record<string, string> }[] };
  index.manifests = index.manifests.flatMap((m) => {
    const wanted = BUNDLE_REFS[m.annotations?.[REF_NAME] ?? ''];
    return wanted ? [{ ...m, annotations: { [REF_NAME]: wanted.ref, ...(wanted.critical ? { [CRITICAL]: 'true' } : {}) } }] : [];
  });
  await writeFile(join(layout, 'index.json'), JSON.stringify(index));
  return layout;
}

/** A CA under `dir/ca` and a certificate for 127.0.0.1 + registry.ferry.internal under `dir/certs`. */
export async function makeReplicaPki(dir: string): Promise<{ ca: RegistryCa; certFile: string; keyFile: string }> {
  const host = new LocalHost();
  const ca = await ensureRegistryCa(host, join(dir, 'ca'), 'test');
  const cert = await issueServerCertificate(host, ca, join(dir, 'work'), 'replica', [{ type: 'IP', value: '127.0.0.1' }, { type: 'DNS', value: 'registry.ferry.internal' }]);
  await mkdir(join(dir, 'certs'), { recursive: true });
  const certFile = join(dir, 'certs', 'registry.crt');
  const keyFile = join(dir, 'certs', 'registry.key');
  await writeFile(certFile, cert.certPem);
  await writeFile(keyFile, cert.keyPem, { mode: 0o600 });
  return { ca, certFile, keyFile };
}

/** Starts docker-registry on the rendered config with storage under `dir`; resolves when `GET /v2/` answers. */
export async function startReplica(dir: string, tls: { certFile: string; keyFile: string; caPem: string }): Promise<Replica> {
  const port = await freePort();
  const root = join(dir, 'storage');
  await mkdir(root, { recursive: true });
  const [config] = renderRegistry({ listen: `127.0.0.1:${port}`, rootDirectory: root, tls: { certificate: tls.certFile, key: tls.keyFile }, configPath: join(dir, 'config.yml') });
  await writeFile(join(dir, 'config.yml'), config!.content);
  const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const host = `127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited ${child.exitCode}: ${stderr}`);
    const up = await fetch(`https://${host}/v2/`).then((r) => r.status === 200, () => false);
    if (up) break;
    if (i > 100) {
      await stopChild(child);
      throw new Error(`docker-registry did not answer on ${host}: ${stderr}`);
    }
    await sleep(50);
  }
  return { host, root, stop: () => stopChild(child) };
}
