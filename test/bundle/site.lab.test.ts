// `ferry doctor --site-out` on a real lab node over SSH, then `ferry bundle build --site` with the SHIPPED spec
// through the offline replica of the upstreams (test/install/support/site-bundle.ts), compared with the bundle the
// README builds with `--kernel` and the full closure. One lab node (g1: control plane, worker and gpu; Debian 12
// under systemd-nspawn, the machine's own kernel, for which the replica serves a stand-in linux-headers-<K> as in
// gpu.lab.test.ts). Proves: the site file holds g1's kernel and packages and none of the inventory's addresses or
// SSH paths; the --site bundle carries the driver for g1's kernel and leaves out what g1 has; apt on g1's own
// package state installs every package the install phases ask for from that bundle alone (and cannot without g1's
// packages); siteCoverage finds g1 covered, and a node lacking a left-out package not. Prints the size figures.
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planFromInput } from '../../src/bundle/build.ts';
import { defaultSources } from '../../src/bundle/default-sources.ts';
import { parseManifest, type BundleManifest } from '../../src/bundle/manifest.ts';
import { coverageNode, manifestCoverage, siteCoverage } from '../../src/bundle/site-coverage.ts';
import { simulateDebInstall } from '../../src/bundle/sources/deb.ts';
import { loadBundleSpec, loadSiteFile } from '../../src/config/inputs.ts';
import { gatherFacts } from '../../src/facts/gather.ts';
import { connectInventory } from '../../src/hosts/connect.ts';
import { loadInventory } from '../../src/config/inputs.ts';
import { startLab, type Lab } from '../lab/lab.ts';
import { BUILD_CACHE, SHIPPED_SPEC, ferry, siteBundle, type SiteBundle } from '../install/support/site-bundle.ts';

let lab: Lab;
let site: SiteBundle;
let kernel: string;
let inventory: string;
let work: string;
const figures: string[] = [];
const T = 1_800_000;

const manifestOf = async (dir: string) => parseManifest(await readFile(join(dir, 'manifest.yaml'), 'utf8'), 'manifest.yaml');
const packageBytes = (m: BundleManifest) => m.artifacts.filter((a) => a.kind === 'package').reduce((n, a) => n + a.size, 0);
const allBytes = (m: BundleManifest) => m.artifacts.reduce((n, a) => n + a.size, 0);
const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

beforeAll(async () => {
  lab = await startLab({ nodes: ['g1'] });
  kernel = (await lab.nodeExec('g1', ['uname', '-r'])).stdout.trim();
  work = join(lab.stateDir, 'site');
  await mkdir(work, { recursive: true });
  site = await siteBundle(join(lab.stateDir, 'walkthrough'), { gpu: { model: 'h100', kernels: [kernel], standInHeaders: [kernel] } });
  inventory = await lab.writeInventory({ roles: { g1: ['control-plane', 'worker', 'gpu'] } });
}, T);

afterAll(async () => {
  if (figures.length) console.log(`[site] figures:\n  ${figures.join('\n  ')}`);
  await site?.replica.stop();
  await lab?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('a bundle built for the site\'s real hosts', () => {
  it('doctor --site-out reads g1 over SSH; bundle build --site carries the driver for its kernel and leaves out its packages; apt installs from it on g1\'s own package state', async () => {
    const siteFile = join(work, 'site.json');
    let started = performance.now();
    const doctor = await ferry(['doctor', '-i', inventory, '--site-out', siteFile, '--only', 'kernel']);
    expect([0, 4], doctor.err).toContain(doctor.code);
    figures.push(`doctor --site-out, 1 node: ${Math.round(performance.now() - started)} ms`);
    const text = await readFile(siteFile, 'utf8');
    const parsed = await loadSiteFile(siteFile);
    expect(parsed.nodes).toEqual([expect.objectContaining({ name: 'g1', roles: ['control-plane', 'worker', 'gpu'], kernel, os: { id: 'debian', versionId: '12', family: 'debian' } })]);
    for (const secret of [lab.nodes[0]!.address, lab.identityFile, lab.knownHostsFile, lab.stateDir]) expect(text).not.toContain(secret);
    const g1Set = parsed.packageSets[parsed.nodes[0]!.packages!]!;
    figures.push(`site file: ${text.length} bytes, g1 has ${g1Set.packages.length} packages`);

    const out = join(work, 'bundle');
    started = performance.now();
    const built = await ferry(['bundle', 'build', '--lock', site.lockFile, '--spec', SHIPPED_SPEC, '--site', siteFile, '--mirrors', site.mirrors, '--out', out, '--cache', BUILD_CACHE, '--sign-key', site.signKey, '--no-ferry-binary', '--quiet'], { NGC_API_KEY: site.replica.ngcApiKey });
    expect(built.code, built.err).toBe(0);
    figures.push(`bundle build --site (no --kernel): ${Math.round(performance.now() - started)} ms`);
    const verified = await ferry(['bundle', 'verify', out, '--pubkey', site.pubkey]);
    expect(verified.code, verified.err).toBe(0);

    const full = await manifestOf(site.dir);
    const small = await manifestOf(out);
    expect(small.site).toMatchObject({ kernels: [kernel], osVersions: ['12'], closure: 'installed', nodes: [{ name: 'g1', kernel, gpu: true, os: 'debian 12' }] });
    expect(small.gpuDrivers).toEqual(full.gpuDrivers);
    expect(small.site!.installed!.packages).toHaveLength(g1Set.packages.length);
    const names = (m: BundleManifest) => m.artifacts.filter((a) => a.kind === 'package').map((a) => `${a.name} ${a.version}`);
    const left = names(full).filter((n) => !names(small).includes(n));
    const g1Has = new Set(g1Set.packages.map((p) => `${p.name} ${p.version}`));
    // The site bundle never carries a package g1 already has at that version; what it leaves out of the full one is
    // on g1 (or an older build of it there satisfies every dependency: apt upgrades nothing that already fits).
    expect(names(small).filter((n) => g1Has.has(n))).toEqual([]);
    expect(left.length).toBeGreaterThan(0);
    const g1Names = new Set(g1Set.packages.map((p) => p.name));
    figures.push(`left out: ${left.filter((n) => g1Has.has(n)).length} on g1 at that version, ${left.filter((n) => !g1Has.has(n) && g1Names.has(n.split(' ')[0]!)).length} on g1 at another version, ${left.filter((n) => !g1Names.has(n.split(' ')[0]!)).length} needed by no package once g1's are there`);
    expect(names(small).some((n) => n.startsWith(`linux-headers-${kernel} `))).toBe(true);
    figures.push(`full closure (--kernel): ${names(full).length} packages ${mib(packageBytes(full))}, bundle ${mib(allBytes(full))}`);
    figures.push(`against g1's installed set (--site): ${names(small).length} packages ${mib(packageBytes(small))}, bundle ${mib(allBytes(small))} (${left.length} packages, ${mib(packageBytes(full) - packageBytes(small))} left out)`);

    // Every package the install phases ask for, resolved by apt from the bundle's repository alone on g1's own state.
    const lock = site.lock;
    const spec = await loadBundleSpec(SHIPPED_SPEC, { cwd: process.cwd() });
    const plan = planFromInput({ lock, spec: { ...spec, kernels: [kernel] }, sources: defaultSources });
    const wanted = [...plan.deb!.packages, ...plan.deb!.gpu[0]!.alternatives.find((a) => a.kind === 'dkms')!.packages];
    const repoDir = join(out, 'packages/debian-12/amd64');
    const status = (await lab.nodeExec('g1', ['cat', '/var/lib/dpkg/status'])).stdout;
    const sim = await simulateDebInstall({ repoDir, arch: 'amd64', packages: wanted, status, workDir: join(work, 'sim-g1') });
    expect(sim.installs).toEqual(expect.arrayContaining(['containerd.io', 'kubeadm', `linux-headers-${kernel}`, 'nvidia-container-toolkit']));
    await expect(simulateDebInstall({ repoDir, arch: 'amd64', packages: wanted, workDir: join(work, 'sim-empty') })).rejects.toThrow(/cannot resolve the Debian packages/);
  }, T);

  it('figures: the same build against a larger installed set (this Debian 12 machine, `ferry doctor --local`)', async () => {
    const siteFile = join(work, 'admin-host.json');
    const doctor = await ferry(['doctor', '--local', '--roles', 'worker,gpu', '--only', 'kernel', '--site-out', siteFile]);
    expect([0, 4], doctor.err).toContain(doctor.code);
    const local = await loadSiteFile(siteFile);
    // The lab nodes run this machine's kernel, so the replica's stand-in headers serve it too.
    expect(local.nodes[0]!.kernel).toBe(kernel);
    const out = join(work, 'bundle-admin-host');
    const built = await ferry(['bundle', 'build', '--lock', site.lockFile, '--spec', SHIPPED_SPEC, '--site', siteFile, '--mirrors', site.mirrors, '--out', out, '--cache', BUILD_CACHE, '--no-ferry-binary', '--quiet'], { NGC_API_KEY: site.replica.ngcApiKey });
    expect(built.code, built.err).toBe(0);
    const full = await manifestOf(site.dir);
    const small = await manifestOf(out);
    const count = (m: BundleManifest) => m.artifacts.filter((a) => a.kind === 'package').length;
    expect(packageBytes(small)).toBeLessThan(packageBytes(full));
    figures.push(`against this machine's installed set (${local.packageSets[local.nodes[0]!.packages!]!.packages.length} packages): ${count(small)} packages ${mib(packageBytes(small))}, bundle ${mib(allBytes(small))}`);
  }, T);

  it('siteCoverage finds g1 covered, as install reads it, and a node lacking a left-out package not', async () => {
    const small = await manifestOf(join(work, 'bundle'));
    const inv = await loadInventory(inventory, { homeDir: process.env.HOME ?? '/root' });
    const set = connectInventory(inv, { homeDir: process.env.HOME ?? '/root', baseDir: join(inventory, '..'), hostKeyPolicy: 'strict' });
    try {
      const facts = await gatherFacts(set.hosts.get('g1')!, { packages: true });
      const coverage = manifestCoverage(small, site.lock.stack);
      const g1 = coverageNode('g1', ['worker', 'gpu'], facts);
      expect(siteCoverage(coverage, [g1])).toEqual([]);
      const dropped = g1.packages!.filter((p) => p.name !== 'libc6');
      expect(siteCoverage(coverage, [{ ...g1, name: 'g2', packages: dropped }])).toEqual([expect.objectContaining({ node: 'g2', kind: 'packages', message: expect.stringMatching(/libc6 \S+ \(amd64\) is not installed/) })]);
      expect(siteCoverage(coverage, [{ ...g1, name: 'g3', kernel: '6.1.0-37-amd64' }]).map((p) => p.kind)).toEqual(['kernel']);
    } finally {
      await set.close();
    }
  }, T);
});
