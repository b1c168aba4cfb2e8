// Test support: the README's internet-side walkthrough, done literally against the offline replica of the upstream
// world (src/replica): `ferry resolve` writes the lock, `ferry key generate` the signing key, `ferry bundle build`
// with the SHIPPED spec bundles/gpu-cluster.yaml (unchanged; only the replica's --mirrors file differs from a site)
// makes the bundle, and `ferry bundle verify --pubkey` checks it. The test replaces the upstream servers, never a
// step of ferry's: what the replica serves for kubeadm/kubelet/kubectl (and the NVIDIA driver) are the STAND-IN
// packages of test/stand-ins, under the names and versions the real repositories use.
//
// The lab can only run Debian 12's own runc (1.1.5, with Debian's backported fixes; Debian's newer runc builds need
// glibc 2.38), so the lock pins it and accepts the runc floors by name, as a Debian site relying on the distribution's
// backports would (docs/lab.md, "The upstream replica").
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { memoryIo } from '../../../src/cli/io.ts';
import { run } from '../../../src/cli/program.ts';
import { rewriteManifestImages } from '../../../src/bundle/rewrite.ts';
import type { Lock } from '../../../src/config/lock.ts';
import { CACHE_DIR } from '../../../src/lab/rootfs.ts';
import { replicaRuntimeVersions } from '../../../src/replica/content.ts';
import { acceptedRuncRisks, labResolveRequest } from '../../../src/replica/lab-lock.ts';
import { startReplica, type Replica } from '../../../src/replica/replica.ts';
import { standInDebs } from '../../stand-ins/debs.ts';

/** The shipped spec the walkthrough builds from. */
export const SHIPPED_SPEC = new URL('../../../bundles/gpu-cluster.yaml', import.meta.url).pathname;
/** Persistent download cache of ferry's builds (like a site's ~/.cache/ferry). */
export const BUILD_CACHE = join(CACHE_DIR, 'site-bundle-cache');

export interface SiteBundle {
  dir: string;
  lockFile: string;
  lock: Lock;
  pubkey: string;
  replica: Replica;
  /** What each step cost, for the figures. */
  timings: Record<string, number>;
  /** The commands as the README shows them (for messages). */
  commands: string[];
}

/** Runs ferry in-process as a user would from the shell; env carries only HOME (and what `env` adds). */
export async function ferry(argv: string[], env: Record<string, string> = {}) {
  const io = memoryIo();
  const started = performance.now();
  const code = await run(argv, { io, now: () => new Date(), cwd: process.cwd(), env: { HOME: process.env.HOME, ...env } });
  return { code, out: io.out(), err: io.err(), ms: Math.round(performance.now() - started) };
}

async function must(step: string, argv: string[], env?: Record<string, string>) {
  const r = await ferry(argv, env);
  if (r.code !== 0) throw new Error(`${step}: ferry ${argv.join(' ')} exited ${r.code}\n${r.err}`);
  return r;
}

/** Calico's manifest as projectcalico publishes it (the unit tests' trimmed copy), at the lock's version. */
async function calicoManifest(work: string, version: string): Promise<{ file: string; images: string[] }> {
  const text = (await readFile(new URL('../../phases/kube/fixtures/calico-trimmed.yaml', import.meta.url), 'utf8')).replaceAll(':master', `:v${version}`);
  const file = join(work, `calico-v${version}.yaml`);
  await writeFile(file, text);
  return { file, images: rewriteManifestImages(text, 'x.invalid').images };
}

/**
 * resolve → key generate → bundle build (shipped spec, replica mirrors) → bundle verify, in `work`. The replica keeps
 * running (the caller stops it): later tests may build a delta or a second bundle from it.
 */
export async function siteBundle(work: string, o: { k8s?: string; cache?: string } = {}): Promise<SiteBundle> {
  await mkdir(work, { recursive: true });
  const timings: Record<string, number> = {};
  const runtime = await replicaRuntimeVersions();
  const lockFile = join(work, 'ferry.lock.yaml');
  const request = labResolveRequest(runtime, o.k8s);
  // The refusals of that runc, as resolve names them today (the matrix gains floors), each accepted by name.
  const refused = JSON.parse((await ferry([...request, '--json'])).out) as { conflicts?: { rules: string[] }[] };
  const resolveArgs = [...request, ...acceptedRuncRisks(refused.conflicts ?? []), '--out', lockFile];
  timings.resolve = (await must('resolve', resolveArgs)).ms;
  const lock = parse(await readFile(lockFile, 'utf8')) as Lock;

  const kube = await standInDebs(lock.stack.kubernetes);
  const calico = await calicoManifest(work, lock.stack.cni.version);
  const images = [...new Set([...lock.images.map((i) => i.ref), ...calico.images])];
  let started = performance.now();
  const replica = await startReplica({
    kubernetesMinor: lock.stack.kubernetes.split('.').slice(0, 2).join('.'),
    debs: { kubernetes: kube.files.map((f) => join(kube.dir, f)) },
    manifests: { calico: { version: lock.stack.cni.version, file: calico.file } },
    images,
  });
  timings.replica = Math.round(performance.now() - started);
  try {
    const mirrors = await replica.mirrorsFile(join(work, 'mirrors.yaml'));
    const keys = join(work, 'keys');
    await must('key generate', ['key', 'generate', '--out', keys]);
    const dir = join(work, 'bundle');
    // --no-ferry-binary: the single executable is built and carried by its own tests (test/ship); here it would
    // only add its build time to every lab run.
    const buildArgs = ['bundle', 'build', '--lock', lockFile, '--spec', SHIPPED_SPEC, '--mirrors', mirrors, '--out', dir, '--cache', o.cache ?? BUILD_CACHE, '--sign-key', join(keys, 'ferry.key'), '--no-ferry-binary', '--quiet'];
    started = performance.now();
    await must('bundle build', buildArgs, { NGC_API_KEY: replica.ngcApiKey });
    timings.build = Math.round(performance.now() - started);
    const pubkey = join(keys, 'ferry.pub');
    timings.verify = (await must('bundle verify', ['bundle', 'verify', dir, '--pubkey', pubkey])).ms;
    const commands = [`ferry ${resolveArgs.join(' ')}`, `ferry ${buildArgs.join(' ')}`, `ferry bundle verify ${dir} --pubkey ${pubkey}`];
    return { dir, lockFile, lock, pubkey, replica, timings, commands };
  } catch (error) {
    await replica.stop();
    throw error;
  }
}
