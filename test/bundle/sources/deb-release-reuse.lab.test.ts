// [needs apt mirror] Two bundles built from one download cache: the second build writes a new Release (its Date
// differs) and must not change the first bundle's, which is hard-linked from the cache (a bundle whose Release
// changed after it was sealed no longer matches its manifest). Found when `ferry demo` and the install lab test
// shared a cache.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceContext } from '../../../src/bundle/artifact.ts';
import { collectDebPackages } from '../../../src/bundle/sources/deb.ts';
import { machineAptSources } from '../../../src/bundle/sources/machine-apt-sources.ts';

let dir: string;
const ctxFor = (name: string): SourceContext => ({ bundleDir: join(dir, name), cacheDir: join(dir, 'cache'), concurrency: 2, progress: () => {} });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-deb-release-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('collectDebPackages with a shared cache', () => {
  it("leaves an earlier bundle's Release as it was sealed", async () => {
    const options = { osId: 'debian', osVersion: '12', sources: await machineAptSources(), arch: 'amd64', packages: ['curl'], closure: 'full' as const };
    const first = await collectDebPackages(options, ctxFor('one'));
    const release = first.find((a) => a.path.endsWith('/Release'))!;
    const path = join(dir, 'one', release.path);
    const before = await readFile(path, 'utf8');
    await sleep(1100); // apt-ftparchive's Release has a Date: to the second
    const second = await collectDebPackages(options, ctxFor('two'));
    expect(second.find((a) => a.path.endsWith('/Release'))!.sha256).not.toBe(release.sha256);
    expect(await readFile(path, 'utf8')).toBe(before);
    expect((await stat(path)).size).toBe(release.size);
  });
});
