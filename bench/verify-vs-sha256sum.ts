// Bench (not a test): ferry's verify against `sha256sum -c SHA256SUMS` on the same bundle of random files, at
// several hashing concurrencies, plus peak memory (RSS) of verify and split packing on a small and a large bundle,
// to show it stays flat as the bundle grows. Warm page cache (this machine cannot drop caches).
//   npm run bench:verify -- [--gib 1.5] [--dir DIR]   (default DIR /var/tmp/ferry-bench)
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import type { Artifact } from '../src/bundle/artifact.ts';
import { sealBundle } from '../src/bundle/seal.ts';
import { hashFile } from '../src/util/hash.ts';

const { values } = parseArgs({ options: { gib: { type: 'string', default: '1.5' }, dir: { type: 'string', default: '/var/tmp/ferry-bench' } } });
const root = values.dir!;
const ferry = new URL('../ferry', import.meta.url).pathname;

/** Writes random files adding up to `bytes` (sizes like a real bundle: many small, some large) and seals them. */
async function makeBundle(dir: string, bytes: number): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  const block = randomBytes(8 << 20);
  const sizes = [64 << 20, 8 << 20, 1 << 20, 256 << 10, 24 << 20, 120 << 20, 2 << 20];
  const artifacts: Artifact[] = [];
  let total = 0;
  for (let i = 0; total < bytes; i++) {
    const size = Math.min(sizes[i % sizes.length]!, bytes - total);
    const path = `images/blobs/sha256/file-${String(i).padStart(5, '0')}`;
    await mkdir(join(dir, 'images/blobs/sha256'), { recursive: true });
    const parts: Buffer[] = [];
    for (let at = 0; at < size; at += block.length) {
      block.writeUInt32LE(i, 0); // make every file differ
      block.writeUInt32LE(at, 4);
      parts.push(Buffer.from(block.subarray(0, Math.min(block.length, size - at))));
    }
    await writeFile(join(dir, path), Buffer.concat(parts));
    artifacts.push({ kind: 'image-blob', path, ...(await hashFile(join(dir, path))), source: 'bench' });
    total += size;
  }
  await sealBundle({ dir, name: 'bench', createdAt: new Date(), platform: 'linux/amd64', osId: 'bench', lockText: 'bench: true\n', artifacts, toolVersion: 'bench' });
}

/** Runs a command under GNU time; returns wall seconds and peak RSS in MiB. */
async function measure(cmd: string[], cwd?: string): Promise<{ seconds: number; rssMiB: number }> {
  const started = performance.now();
  const r = await execa('/usr/bin/time', ['-f', '%M', ...cmd], { cwd, reject: false });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(' ')} failed: ${r.stderr}`);
  const seconds = (performance.now() - started) / 1000;
  const rssKiB = Number(String(r.stderr).trim().split('\n').pop());
  return { seconds, rssMiB: rssKiB / 1024 };
}

const gib = Number(values.gib);
const big = join(root, 'big');
const small = join(root, 'small');
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
console.log(`load average at start: ${load()} (figures are only comparable on an otherwise idle machine)`);
console.log(`making bundles under ${root}: ${gib} GiB and ${(gib / 4).toFixed(2)} GiB of random files`);
await makeBundle(big, gib * 2 ** 30);
await makeBundle(small, (gib / 4) * 2 ** 30);
const mb = (gib * 2 ** 30) / 1e6;

// Warm the page cache once so neither side pays for the first read.
await execa('sha256sum', ['--quiet', '-c', 'SHA256SUMS'], { cwd: big });
const rows: string[] = [];
const sums: number[] = [];
for (let i = 0; i < 3; i++) sums.push((await measure(['sha256sum', '--quiet', '-c', 'SHA256SUMS'], big)).seconds);
const shaBest = Math.min(...sums);
rows.push(`sha256sum -c            ${shaBest.toFixed(2)} s  ${(mb / shaBest).toFixed(0)} MB/s`);
for (const c of [1, 2, 4, 8]) {
  const runs: { seconds: number; rssMiB: number }[] = [];
  for (let i = 0; i < 3; i++) runs.push(await measure([ferry, 'bundle', 'verify', big, '--quiet', '--concurrency', String(c)]));
  const best = Math.min(...runs.map((r) => r.seconds));
  rows.push(`ferry verify -c ${c}       ${best.toFixed(2)} s  ${(mb / best).toFixed(0)} MB/s  ratio ${(shaBest / best).toFixed(2)}  peak RSS ${Math.max(...runs.map((r) => r.rssMiB)).toFixed(0)} MiB`);
}
const vSmall = await measure([ferry, 'bundle', 'verify', small, '--quiet']);
const vBig = await measure([ferry, 'bundle', 'verify', big, '--quiet']);
rows.push(`verify peak RSS: ${vSmall.rssMiB.toFixed(0)} MiB at ${(gib / 4).toFixed(2)} GiB, ${vBig.rssMiB.toFixed(0)} MiB at ${gib} GiB`);
const chunks = join(root, 'chunks');
const packCmd = (dir: string) => [process.execPath, '-e', `import(${JSON.stringify(new URL('../src/bundle/pack.ts', import.meta.url).href)}).then(m => m.packSplit(${JSON.stringify(dir)}, ${JSON.stringify(chunks)}, 3900 * 2 ** 20))`];
const pSmall = await measure(packCmd(small));
const pBig = await measure(packCmd(big));
rows.push(`split pack peak RSS: ${pSmall.rssMiB.toFixed(0)} MiB at ${(gib / 4).toFixed(2)} GiB, ${pBig.rssMiB.toFixed(0)} MiB at ${gib} GiB (${(mb / pBig.seconds).toFixed(0)} MB/s)`);
const vChunks = await measure([ferry, 'bundle', 'verify', chunks, '--quiet']);
rows.push(`verify of the chunk set: ${(mb / vChunks.seconds).toFixed(0)} MB/s, peak RSS ${vChunks.rssMiB.toFixed(0)} MiB`);
console.log(rows.join('\n'));
console.log(`load average at end: ${load()}`);
await rm(root, { recursive: true, force: true });
