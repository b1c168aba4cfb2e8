import { readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VerifyError } from '../../src/errors.ts';
import { parseChunkIndex } from '../../src/bundle/chunks.ts';
import { BundleLayout } from '../../src/bundle/layout.ts';
import { packIso, packOrder, packSplit, parseSize, unpackBundle } from '../../src/bundle/pack.ts';
import { verifyBundle } from '../../src/bundle/verify.ts';
import { FIXTURE_FILES, makeBundle, tempDir } from './support/make-bundle.ts';

let made: Awaited<ReturnType<typeof makeBundle>>;
let work: string;
const CHUNK = 64 * 1024;
// A path longer than ustar's 100-character name field, to prove long names survive the trip.
const longPath = `files/${'deep/'.repeat(25)}long-name.bin`;

beforeAll(async () => {
  made = await makeBundle({ files: [...FIXTURE_FILES, { kind: 'file', path: longPath, size: 5000, name: 'long' }] });
  work = await tempDir();
});
afterAll(async () => {
  await rm(made.dir, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

describe('parseSize', () => {
  it.each([
    ['3900M', 3900 * 2 ** 20],
    ['64k', 65536],
    ['1G', 2 ** 30],
    ['20000', 20000],
  ])('reads %s', (text, bytes) => expect(parseSize(text)).toBe(bytes));
  it.each(['4G', 'lots', '1k', ''])('refuses %s', (text) => expect(() => parseSize(text)).toThrow(/--split/));
});

describe('packOrder', () => {
  it('puts the manifest and its companions first, then files by path', () => {
    expect(packOrder(['z', 'SHA256SUMS', 'a/b', 'manifest.yaml', 'manifest.yaml.sig'])).toEqual(['manifest.yaml', 'manifest.yaml.sig', 'SHA256SUMS', 'a/b', 'z']);
  });
});

describe('split packing', () => {
  it('cuts the tar into numbered chunks of the given size, with an index of their checksums', async () => {
    const out = join(work, 'chunks');
    const index = await packSplit(made.dir, out, CHUNK);
    expect(index.chunks.length).toBeGreaterThanOrEqual(3);
    expect(index.chunks.slice(0, -1).every((c) => c.size === CHUNK)).toBe(true);
    const names = (await readdir(out)).sort();
    expect(names).toEqual([BundleLayout.chunkIndex, ...index.chunks.map((c) => c.name)].sort());
    expect(names).toContain('ferry-bundle.tar.000');
    expect(parseChunkIndex(await readFile(join(out, BundleLayout.chunkIndex), 'utf8'), 'index').totalSize).toBe(index.totalSize);
  });

  it('verifies the chunk set by streaming it through the tar parser, and unpacks to a bundle that verifies', async () => {
    const out = join(work, 'chunks-ok');
    await packSplit(made.dir, out, CHUNK);
    const v = await verifyBundle(out, { trustedKey: made.publicKey });
    expect(v.form).toBe('chunks');
    expect(v.checkedFiles).toBe(FIXTURE_FILES.length + 4);
    const unpacked = join(work, 'unpacked');
    await unpackBundle(join(out, 'ferry-bundle.tar.001'), unpacked);
    expect((await verifyBundle(unpacked, { trustedKey: made.publicKey })).form).toBe('directory');
    expect(await readFile(join(unpacked, longPath))).toEqual(await readFile(join(made.dir, longPath)));
  });

  it.each([
    { name: 'a missing chunk', damage: (d: string) => rm(join(d, 'ferry-bundle.tar.001')), expect: /ferry-bundle.tar.001: missing chunk/ },
    { name: 'a truncated last chunk', damage: (d: string) => truncate(join(d, 'ferry-bundle.tar.002'), 100), expect: /ferry-bundle.tar.002: size 100/ },
    {
      name: 'a flipped byte in a chunk',
      damage: async (d: string) => {
        const f = join(d, 'ferry-bundle.tar.001');
        const b = await readFile(f);
        b[30_000] = b[30_000]! ^ 1;
        await writeFile(f, b);
      },
      expect: /ferry-bundle.tar.001: checksum does not match the index/,
    },
  ])('reports $name, in verify and in unpack', async ({ name, damage, expect: pattern }) => {
    const out = join(work, `chunks-${name.replaceAll(' ', '-')}`);
    await packSplit(made.dir, out, CHUNK);
    await damage(out);
    const error = (await verifyBundle(out).catch((e: unknown) => e)) as VerifyError;
    expect(error).toBeInstanceOf(VerifyError);
    expect(error.problems.join('\n')).toMatch(pattern);
    const unpackError = await unpackBundle(out, join(work, `un-${name.replaceAll(' ', '-')}`)).catch((e: unknown) => e);
    expect(unpackError).toBeInstanceOf(VerifyError);
  });
});

describe('ISO packing (xorriso)', () => {
  it('writes an ISO that verifies in place (extents read from the image) and unpacks to a bundle that verifies', async () => {
    const iso = join(work, 'ferry.iso');
    await packIso(made.dir, iso, 'ferry-test');
    const v = await verifyBundle(iso, { trustedKey: made.publicKey });
    expect(v.form).toBe('iso');
    expect(v.checkedFiles).toBe(FIXTURE_FILES.length + 4);
    const out = join(work, 'from-iso');
    await unpackBundle(iso, out);
    expect((await verifyBundle(out, { trustedKey: made.publicKey })).ok).toBe(true);
  });

  it('finds a flipped byte inside the ISO and names the file', async () => {
    const iso = join(work, 'bad.iso');
    await packIso(made.dir, iso, 'ferry-test');
    const bytes = await readFile(iso);
    const blob = await readFile(join(made.dir, BundleLayout.imageBlob('a'.repeat(64))));
    const blobAt = bytes.indexOf(blob.subarray(0, 64));
    expect(blobAt).toBeGreaterThan(0);
    bytes[blobAt + 10] = bytes[blobAt + 10]! ^ 0x80;
    await writeFile(iso, bytes);
    const error = (await verifyBundle(iso).catch((e: unknown) => e)) as VerifyError;
    expect(error.problems).toEqual([expect.stringMatching(/^images\/blobs\/sha256\/a{64}: content changed/)]);
  });
});
