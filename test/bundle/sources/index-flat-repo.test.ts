// indexFlatRepo rewrites a flat repo's Packages, Packages.gz and Release. Its Release is made in a work dir that
// persists between builds and is hard-linked into each bundle: a second index must leave the first bundle's
// Release as it was (a write through the shared inode broke cached lab bundles).
import { link, mkdtemp, readFile, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { indexFlatRepo } from '../../../src/bundle/sources/deb.ts';
import { buildDeb } from '../../stand-ins/deb-builder.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('indexFlatRepo', () => {
  it('indexes the debs and never writes through a Release an earlier bundle links to', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ferry-index-'));
    dirs.push(root);
    const [repo, work, earlier] = ['repo', 'work', 'earlier'].map((d) => join(root, d)) as [string, string, string];
    await mkdir(repo);
    await mkdir(earlier);
    await buildDeb({ name: 'ferry-one', version: '1.0-1', description: 'test package one', files: { 'usr/share/ferry-one/a': { text: 'a\n', mode: 0o644 } } }, repo);
    const first = await indexFlatRepo(repo, 'packages/debian-12/amd64', work);
    expect(first.map((a) => a.path)).toEqual(['Packages', 'Packages.gz', 'Release'].map((f) => `packages/debian-12/amd64/${f}`));
    expect(await readFile(join(repo, 'Packages'), 'utf8')).toMatch(/^Package: ferry-one$/m);
    await link(join(work, 'Release'), join(earlier, 'Release'));
    const before = await readFile(join(earlier, 'Release'), 'utf8');
    await buildDeb({ name: 'ferry-two', version: '2.0-1', description: 'test package two', files: { 'usr/share/ferry-two/b': { text: 'b\n', mode: 0o644 } } }, repo);
    await rm(join(repo, 'Release'));
    await indexFlatRepo(repo, 'packages/debian-12/amd64', work);
    expect(await readFile(join(repo, 'Packages'), 'utf8')).toMatch(/^Package: ferry-two$/m);
    expect(await readFile(join(repo, 'Release'), 'utf8')).not.toBe(before);
    expect(await readFile(join(earlier, 'Release'), 'utf8')).toBe(before);
  });
});
