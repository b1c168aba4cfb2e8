// Every bundle carries bin/ferry by default (the single executable, from dist/ferry built from these sources), and
// that binary works on the far side on its own: --version, `bundle verify` of its own bundle and `doctor --local`,
// from the bundle directory (no node_modules) with no Node on PATH.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleLayout } from '../../src/bundle/layout.ts';
import { lockWithoutImages, runFerry } from '../cli/support/run-ferry.ts';
import { pathWithoutNode } from './support/no-node.ts';

let work: string;
let bundle: string;
let built: Awaited<ReturnType<typeof runFerry>>;
let env: Record<string, string>;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ferry-bundle-binary-'));
  await writeFile(join(work, 'lock.yaml'), lockWithoutImages());
  // A Debian source nothing is fetched from: the spec lists no packages.
  await writeFile(join(work, 'spec.yaml'), 'apiVersion: ferry.dev/v1alpha1\nkind: BundleSpec\nname: with-binary\nos:\n  debian:\n    "12":\n      sources: [{ uri: "http://deb.debian.org/debian", suite: bookworm, components: [main] }]\n');
  bundle = join(work, 'bundle');
  built = await runFerry('bundle', 'build', '--lock', join(work, 'lock.yaml'), '--spec', join(work, 'spec.yaml'), '--out', bundle, '--cache', join(work, 'cache'), '--partial');
  env = { PATH: pathWithoutNode(work), HOME: work };
}, 180_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function binary(...args: string[]) {
  const r = spawnSync(join(bundle, BundleLayout.binary), args, { cwd: bundle, env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('bin/ferry in every bundle', { timeout: 90_000 }, () => {
  it('is carried by default, named in the manifest and SHA256SUMS, and the progress says where it came from', async () => {
    expect(built.code, built.err).toBe(0);
    expect(built.err).toMatch(/^\[bundle\] The ferry executable: \d{8,} bytes \((dist\/ferry, current|dist\/ferry, built by a parallel run|built dist\/ferry from the sources in [\d.]+ s)\)$/m);
    expect(await readFile(join(bundle, BundleLayout.manifest), 'utf8')).toContain(`path: ${BundleLayout.binary}`);
    expect(await readFile(join(bundle, 'SHA256SUMS'), 'utf8')).toMatch(new RegExp(`^[0-9a-f]{64}  ${BundleLayout.binary}$`, 'm'));
  });

  it('runs --version and verifies its own bundle with no Node on PATH and no node_modules', () => {
    expect(spawnSync('sh', ['-c', 'command -v node'], { env }).status).not.toBe(0);
    const v = binary('--version');
    expect(v.code, v.err).toBe(0);
    expect(v.out.trim()).toBe('0.1.0');
    const verify = binary('bundle', 'verify', '.', '--json');
    expect(verify.code, verify.err).toBe(0);
    expect(JSON.parse(verify.out)).toMatchObject({ ok: true, form: 'directory' });
  });

  it('runs doctor --local with the scripts it carries inside', () => {
    const r = binary('doctor', '--local', '--json');
    // 0: all pass, 4: some check failed on this machine (it is no cluster node); both are a finished report.
    expect([0, 4], r.err).toContain(r.code);
    const report = JSON.parse(r.out) as { hosts: { reachable: boolean }[]; findings: { check: string }[] };
    expect(report.hosts[0]!.reachable).toBe(true);
    expect(report.findings.map((f) => f.check)).toContain('cgroup-version');
  });

  it('--no-ferry-binary leaves it out', async () => {
    const r = await runFerry('bundle', 'build', '--lock', join(work, 'lock.yaml'), '--spec', join(work, 'spec.yaml'), '--out', join(work, 'bare'), '--cache', join(work, 'cache'), '--no-ferry-binary', '--json', '--partial');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ artifacts: 0 });
    expect(await readFile(join(work, 'bare', BundleLayout.manifest), 'utf8')).not.toContain(BundleLayout.binary);
  });
});
