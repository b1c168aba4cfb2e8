// [needs apt mirror] collectDebPackages on real Debian packages (haproxy, keepalived, containerd, runc and their
// dependencies) from the machine's own configured apt sources; the flat repo is then checked the way a node uses
// it: a fresh apt state whose only source is the repo, `apt-get install --simulate`.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Artifact, SourceContext } from '../../../src/bundle/artifact.ts';
import { collectDebPackages, privateApt, simulateDebInstall, type CollectDebOptions } from '../../../src/bundle/sources/deb.ts';
import type { DebSource } from '../../../src/bundle/sources/deb-plan.ts';
import { parseAptSimulation, statusFile } from '../../../src/bundle/sources/deb-plan.ts';
import { parseDeb822 } from '../../../src/bundle/sources/deb822.ts';
import { UserError } from '../../../src/errors.ts';
import { LocalHost } from '../../../src/hosts/local.ts';
import { machineAptSources } from '../../support/apt-sources.ts';

const PACKAGES = ['haproxy', 'keepalived', 'containerd', 'runc'];
const host = new LocalHost();
let sources: DebSource[];
let dir: string;
let full: Artifact[];

function ctxFor(name: string): SourceContext {
  return { bundleDir: join(dir, name), cacheDir: join(dir, 'cache'), concurrency: 4, progress: () => {} };
}
function options(over: Partial<CollectDebOptions>): CollectDebOptions {
  return { osId: 'debian', osVersion: '12', sources, arch: 'amd64', packages: PACKAGES, closure: 'full', ...over };
}
const debs = (a: Artifact[]) => a.filter((x) => x.kind === 'package');
const bytes = (a: Artifact[]) => debs(a).reduce((n, x) => n + x.size, 0);

/**
 * What a minimal Debian install has: the packages of Priority `required` (what `debootstrap --variant=minbase`
 * starts from) with their dependencies, as apt resolves them onto an empty system, as `name=version` lines (the
 * way doctor reports a node), with their index stanzas.
 */
async function minbaseInstalled(): Promise<{ entries: string[]; stanzas: ReturnType<typeof parseDeb822> }> {
  const apt = await privateApt(join(dir, 'minbase-apt'), sources, 'amd64');
  await host.exec(apt.apt('apt-get', '-q', 'update'));
  const all = parseDeb822((await host.exec(apt.apt('apt-cache', 'dumpavail'))).stdout);
  const required = [...new Set(all.filter((s) => s.Priority === 'required').map((s) => s.Package!))];
  const closure = parseAptSimulation((await host.exec(apt.apt('apt-get', '-s', '-q', 'install', ...required))).stdout);
  const entries = closure.map((p) => `${p.name}=${p.version}`);
  const stanzas = parseDeb822((await host.exec(apt.apt('apt-cache', 'show', '--no-all-versions', ...entries))).stdout);
  return { entries, stanzas };
}

beforeAll(async () => {
  sources = await machineAptSources();
  dir = await mkdtemp(join(tmpdir(), 'ferry-deb-'));
  full = await collectDebPackages(options({}), ctxFor('full'));
}, 300_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('[needs apt mirror] collectDebPackages', () => {
  it('found the machine\'s apt sources', () => {
    expect(sources.length).toBeGreaterThan(0);
  });

  it('resolves the full closure with every .deb placed and described in the Packages index', async () => {
    const names = debs(full).map((a) => a.name);
    expect(names).toEqual(expect.arrayContaining([...PACKAGES, 'libc6', 'libseccomp2']));
    const index = parseDeb822(await readFile(join(dir, 'full/packages/debian-12/amd64/Packages'), 'utf8'));
    expect(index.map((s) => s.Package).sort()).toEqual([...names].sort());
    for (const a of debs(full)) {
      expect((await stat(join(dir, 'full', a.path))).size).toBe(a.size);
      expect(index.find((s) => s.Package === a.name)!.SHA256).toBe(a.sha256);
    }
    expect(full.filter((a) => a.kind === 'repo-metadata').map((a) => a.path.split('/').pop())).toEqual(['Packages', 'Packages.gz', 'Release']);
    console.log(`[measure] deb full closure: ${debs(full).length} packages, ${bytes(full)} bytes`);
  });

  it('yields a flat repo that installs the set onto an empty system', async () => {
    const { installs } = await simulateDebInstall({ repoDir: join(dir, 'full/packages/debian-12/amd64'), arch: 'amd64', packages: PACKAGES, workDir: join(dir, 'sim-full') });
    expect(installs).toEqual(expect.arrayContaining(PACKAGES));
    expect(installs).toHaveLength(debs(full).length);
  }, 120_000);

  it('against a minimal installed set is smaller and still installs onto that system', async () => {
    const minbase = await minbaseInstalled();
    const small = await collectDebPackages(options({ closure: { installed: minbase.entries } }), ctxFor('small'));
    console.log(`[measure] deb closure against minbase (${minbase.entries.length} installed): ${debs(small).length} packages, ${bytes(small)} bytes`);
    expect(debs(small).length).toBeLessThan(debs(full).length);
    expect(debs(small).map((a) => a.name)).toEqual(expect.arrayContaining(PACKAGES));
    const onNode = new Set(minbase.entries);
    expect(debs(small).filter((a) => onNode.has(`${a.name}=${a.version}`))).toEqual([]);
    const status = statusFile(minbase.entries, minbase.stanzas, 'amd64').text;
    const { installs } = await simulateDebInstall({ repoDir: join(dir, 'small/packages/debian-12/amd64'), arch: 'amd64', packages: PACKAGES, status, workDir: join(dir, 'sim-small') });
    expect(installs).toEqual(expect.arrayContaining(PACKAGES));
    await expect(simulateDebInstall({ repoDir: join(dir, 'small/packages/debian-12/amd64'), arch: 'amd64', packages: PACKAGES, workDir: join(dir, 'sim-small-empty') })).rejects.toBeInstanceOf(UserError);
  }, 300_000);

  it('resolves for the target architecture, not the build host\'s', async () => {
    const arm = await collectDebPackages(options({ arch: 'arm64', packages: ['runc'] }), ctxFor('arm64'));
    expect(debs(arm).find((a) => a.name === 'runc')).toMatchObject({ arch: 'arm64' });
    expect(debs(arm).every((a) => a.arch === 'arm64' || a.arch === 'all')).toBe(true);
    expect(debs(arm).every((a) => a.path.startsWith('packages/debian-12/arm64/'))).toBe(true);
    const { installs } = await simulateDebInstall({ repoDir: join(dir, 'arm64/packages/debian-12/arm64'), arch: 'arm64', packages: ['runc'], workDir: join(dir, 'sim-arm64') });
    expect(installs).toContain('runc');
  }, 300_000);

  it('fails with a UserError naming a package no source has', async () => {
    const error = await collectDebPackages(options({ packages: ['haproxy', 'ferry-no-such-package'] }), ctxFor('nosuch')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toContain('no source has a package named ferry-no-such-package');
  }, 120_000);
});
