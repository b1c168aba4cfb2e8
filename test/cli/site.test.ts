// The site file through the CLI: `ferry doctor --local --site-out` for real on this machine, then `ferry bundle
// build --site --dry-run` with the shipped spec (contradictions exit 2; a Rocky 9.4 site gives kernels and closure).
import { hostname } from 'node:os';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SiteFile } from '../../src/config/site.ts';
import { tempDir } from '../bundle/support/make-bundle.ts';
import { KERNEL_94, KERNEL_94_ERRATA, siteOf } from '../fixtures/site/rocky94-nodes.ts';
import { runFerry as ferry } from './support/run-ferry.ts';

const rockyLock = new URL('../bundle/fixtures/lock-rocky9-h100.yaml', import.meta.url).pathname;
const spec = new URL('../../bundles/gpu-cluster.yaml', import.meta.url).pathname;
let work: string;

beforeAll(async () => {
  work = await tempDir('ferry-cli-site-');
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('ferry doctor --site-out → ferry bundle build --site', () => {
  it('doctor --local writes a site file of this machine that the schema takes, with its installed packages', async () => {
    const file = join(work, 'local.json');
    const r = await ferry('doctor', '--local', '--roles', 'worker,gpu', '--only', 'kernel', '--site-out', file);
    expect([0, 4]).toContain(r.code);
    const site = SiteFile.parse(JSON.parse(await readFile(file, 'utf8')));
    expect(site.nodes).toHaveLength(1);
    expect(site.nodes[0]).toMatchObject({ name: hostname(), roles: ['worker', 'gpu'], os: { family: 'debian' } });
    expect(site.packageSets[site.nodes[0]!.packages!]!.packages.some((p) => p.name === 'dpkg')).toBe(true);
  });

  it('refuses (exit 2) a site whose node runs another OS than the lock, naming node and both releases', async () => {
    const file = join(work, 'local.json');
    const r = await ferry('bundle', 'build', '--lock', rockyLock, '--spec', spec, '--site', file, '--dry-run');
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${file} contradicts the lock (rocky 9.4, amd64, NVIDIA 580.126.18)`);
    expect(r.err).toMatch(new RegExp(`${hostname()} runs debian 12, but the lock is for rocky 9\\.4`));
    expect(r.err).toContain('ferry resolve --os');
  });

  it("plans the GPU nodes' kernels and the installed closure from a Rocky 9.4 site", async () => {
    const file = join(work, 'rocky.json');
    await writeFile(file, JSON.stringify(siteOf([{ name: 'cp-1', roles: ['control-plane'] }, { name: 'gpu-1', roles: ['gpu'], gpus: 8 }, { name: 'gpu-2', roles: ['gpu'], gpus: 8, kernel: KERNEL_94_ERRATA }])));
    const r = await ferry('bundle', 'build', '--lock', rockyLock, '--spec', spec, '--site', file, '--dry-run', '--json');
    expect(r.code, r.err).toBe(0);
    const plan = JSON.parse(r.out) as { rpm: { releasever: string; gpu: { kernel: string }[]; closure: { installed: string[] } }; site: { kernels: string[]; closure: string } };
    expect(plan.rpm.releasever).toBe('9.4');
    expect(plan.rpm.gpu.map((g) => g.kernel)).toEqual([KERNEL_94, KERNEL_94_ERRATA]);
    expect(plan.rpm.closure.installed).toContain('openssl-libs-1:3.0.7-27.el9.x86_64');
    expect(plan.site).toMatchObject({ kernels: [KERNEL_94, KERNEL_94_ERRATA], closure: 'installed' });
    const text = await ferry('bundle', 'build', '--lock', rockyLock, '--spec', spec, '--site', file, '--dry-run', '--closure', 'full');
    expect(text.code, text.err).toBe(0);
    expect(text.out).toMatch(/closure: full/);
    expect(text.out).toContain(`${KERNEL_94_ERRATA}:`);
  });

  it('refuses a hand-edited site file (exit 2, file and field) and --closure installed without --site', async () => {
    const file = join(work, 'edited.json');
    const site = siteOf([{ name: 'gpu-1', roles: ['gpu'] }]);
    const key = Object.keys(site.packageSets)[0]!;
    site.packageSets[key]!.packages[0]!.version = '9.9-9.el9';
    await writeFile(file, JSON.stringify(site, null, 2));
    const r = await ferry('bundle', 'build', '--lock', rockyLock, '--spec', spec, '--site', file, '--dry-run');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`edited\\.json:\\d+:\\d+: packageSets\\.${key}: the set does not hash to its key`));
    const lone = await ferry('bundle', 'build', '--lock', rockyLock, '--spec', spec, '--kernel', KERNEL_94, '--closure', 'installed', '--dry-run');
    expect(lone.code).toBe(2);
    expect(lone.err).toContain('--closure installed needs --site');
  });
});
