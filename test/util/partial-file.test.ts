import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendHashed, judgePartial, promotePartial } from '../../src/util/partial-file.ts';

let dir: string;
beforeEach(async () => void (dir = await mkdtemp(join(tmpdir(), 'ferry-partial-'))));
afterEach(async () => rm(dir, { recursive: true, force: true }));

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
async function* chunks(data: Buffer, size: number, breakAfter?: number) {
  for (let i = 0; i < data.length; i += size) {
    if (breakAfter !== undefined && i >= breakAfter) throw new Error('socket hang up');
    yield data.subarray(i, i + size);
  }
}

describe('appendHashed', () => {
  const data = randomBytes(300_000);

  it('keeps what arrived before a break, and a resume from there yields the whole file and its sha256', async () => {
    const path = join(dir, 'x.partial');
    const first = await appendHashed({ path, offset: 0, body: chunks(data, 65536, 131072) });
    expect(first.failure).toBeInstanceOf(Error);
    expect(first.size).toBe(131072);
    expect((await readFile(path)).equals(data.subarray(0, 131072))).toBe(true);
    let counted = 0;
    const rest = await appendHashed({ path, offset: first.size, body: chunks(data.subarray(first.size), 50_000), onBytes: (n) => (counted += n) });
    expect(rest).toMatchObject({ received: data.length - 131072, size: data.length, sha256: sha(data), overLimit: false });
    expect(rest.failure).toBeUndefined();
    expect(counted).toBe(data.length - 131072);
    expect(judgePartial(rest, { size: data.length, sha256: sha(data) })).toBe('ok');
    await promotePartial(path, join(dir, 'x'));
    expect((await readFile(join(dir, 'x'))).equals(data)).toBe(true);
  });

  it('starts over at offset 0 and stops reading past the limit', async () => {
    const path = join(dir, 'y.partial');
    await writeFile(path, 'stale bytes from another file');
    const out = await appendHashed({ path, offset: 0, body: chunks(data, 100_000), limit: 250_000 });
    expect(out).toMatchObject({ received: 200_000, overLimit: true });
    expect(judgePartial(out, { size: 250_000 })).toBe('long');
  });
});

describe('judgePartial', () => {
  const good = { size: 10, sha256: 'a'.repeat(64), overLimit: false };
  it.each([
    { name: 'size and digest match', got: good, expected: { size: 10, sha256: 'a'.repeat(64) }, verdict: 'ok' },
    { name: 'nothing expected but what arrived', got: good, expected: {}, verdict: 'ok' },
    { name: 'fewer bytes than expected', got: { ...good, size: 9 }, expected: { size: 10 }, verdict: 'short' },
    { name: 'more bytes than expected', got: { ...good, size: 11 }, expected: { size: 10 }, verdict: 'long' },
    { name: 'the sender went past the limit', got: { ...good, overLimit: true }, expected: {}, verdict: 'long' },
    { name: 'right size, wrong digest', got: good, expected: { size: 10, sha256: 'b'.repeat(64) }, verdict: 'digest' },
  ] as const)('$name', ({ got, expected, verdict }) => {
    expect(judgePartial(got, expected)).toBe(verdict);
  });
});
