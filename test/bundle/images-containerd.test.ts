// containerd (Debian's 1.6, run as a plain process) must accept the bundle's OCI layout with
// `ctr images import`: every image under its full reference, the same manifest digests, unpacked.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectImages } from '../../src/bundle/sources/images.ts';
import { REF_NAME } from '../../src/bundle/sources/oci-layout.ts';
import { startContainerd, type RunningContainerd } from '../support/containerd.ts';
import { FIXTURES, pushFixtures } from '../support/fixture-images.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';

describe('ctr images import of the bundle layout', { timeout: 60_000 }, () => {
  let work: string;
  let registry: RunningRegistry | undefined;
  let containerd: RunningContainerd | undefined;
  let bundleDir: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ferry-ctr-'));
    registry = await startRegistry(join(work, 'registry'));
    await pushFixtures(join(work, 'fixtures'), { host: registry.host });
    bundleDir = join(work, 'bundle');
    await collectImages(
      { images: Object.values(FIXTURES).map((r) => ({ ref: `${registry!.host}/${r}` })), platform: 'linux/amd64', insecureRegistries: [registry.host] },
      { bundleDir, cacheDir: join(work, 'cache'), concurrency: 4, progress: () => {} },
    );
    containerd = await startContainerd(join(work, 'containerd'));
  }, 120_000);

  afterAll(async () => {
    await containerd?.stop();
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('imports every image under its full reference with the bundle digests, OCI and Docker schema 2 alike, and unpacks them (check says complete, unpacked true)', async () => {
    const tar = join(work, 'images.tar');
    await execa('tar', ['-C', join(bundleDir, 'images'), '-cf', tar, '.']);
    await containerd!.ctr(['images', 'import', '--platform', 'linux/amd64', tar]);
    const index = JSON.parse(await readFile(join(bundleDir, 'images/index.json'), 'utf8')) as {
      manifests: { digest: string; annotations: Record<string, string> }[];
    };
    const listed = (await containerd!.ctr(['images', 'ls'])).split('\n').slice(1).filter(Boolean).map((line) => line.split(/\s+/));
    const byName = new Map(listed.map((cols) => [cols[0], cols[2]]));
    expect(index.manifests).toHaveLength(Object.keys(FIXTURES).length);
    for (const m of index.manifests) expect(byName.get(m.annotations[REF_NAME])).toBe(m.digest);
    for (const m of index.manifests) {
      const check = await containerd!.ctr(['images', 'check', `name==${m.annotations[REF_NAME]}`]);
      const row = check.split('\n')[1]!.split(/\s+/);
      expect(row[0]).toBe(m.annotations[REF_NAME]);
      expect(row[2]).toBe(m.digest);
      expect(row[3]).toBe('complete');
      expect(row.at(-1)).toBe('true');
    }
  });
});
