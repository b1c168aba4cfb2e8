// A file carried out of a release archive (the spec's `extract:`): the member, hashed; a missing member named.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractMember } from '../../../src/bundle/sources/files.ts';
import { UserError } from '../../../src/errors.ts';
import { hashBytes, hashFile } from '../../../src/util/hash.ts';

let work: string;
let archive: string;
let archiveSha: string;
const binary = Buffer.from('#!/bin/sh\necho registry github.com/distribution/distribution v2.8.3\n');

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ferry-extract-'));
  // distribution's release archives hold the binary beside LICENSE and README.md, at the top level.
  await writeFile(join(work, 'registry'), binary, { mode: 0o755 });
  await writeFile(join(work, 'LICENSE'), 'Apache-2.0\n');
  archive = join(work, 'registry_2.8.3_linux_amd64.tar.gz');
  await execa('tar', ['-C', work, '-czf', archive, 'LICENSE', './registry']);
  archiveSha = (await hashFile(archive)).sha256;
});
afterAll(() => rm(work, { recursive: true, force: true }));

describe('extractMember', () => {
  it('writes the member into the cache once and returns its own hash', async () => {
    const got = await extractMember(archive, archiveSha, 'registry', join(work, 'cache'), 'https://github.com/x.tar.gz');
    expect(await readFile(got.path)).toEqual(binary);
    expect(got).toMatchObject({ sha256: hashBytes(binary).sha256, size: binary.length });
    expect(await extractMember(archive, archiveSha, 'registry', join(work, 'cache'), 'https://github.com/x.tar.gz')).toEqual(got);
  });

  it('names what the archive holds when the member is not in it', async () => {
    const error = await extractMember(archive, archiveSha, 'bin/registry', join(work, 'cache'), 'https://github.com/x.tar.gz').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toBe('https://github.com/x.tar.gz has no file bin/registry; it holds LICENSE, registry');
  });

  it('refuses a download that is not a .tar.gz', async () => {
    await writeFile(join(work, 'plain'), 'not gzip');
    const error = await extractMember(join(work, 'plain'), 'f'.repeat(64), 'registry', join(work, 'cache'), 'https://github.com/y').catch((e: unknown) => e);
    expect(String(error)).toMatch(/not a readable \.tar\.gz/);
  });
});
