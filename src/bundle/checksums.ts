// SHA256SUMS in the format `sha256sum -c` reads, and the one streaming file hasher every step shares.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export interface Checksum {
  path: string;
  sha256: string;
}

/** Renders `<hex>  <path>` lines (text mode, as GNU sha256sum writes them), sorted by path. */
export function renderSha256Sums(entries: readonly Checksum[]): string {
  return [...entries]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((e) => `${e.sha256}  ${e.path}\n`)
    .join('');
}

/** Parses SHA256SUMS; returns the entries and the lines that are not `<hex>  <path>` (1-based). */
export function parseSha256Sums(text: string): { entries: Checksum[]; badLines: number[] } {
  const entries: Checksum[] = [];
  const badLines: number[] = [];
  text.split('\n').forEach((line, i) => {
    if (line === '') return;
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (m) entries.push({ sha256: m[1]!, path: m[2]! });
    else badLines.push(i + 1);
  });
  return { entries, badLines };
}

/** Hashes a stream without holding it: returns sha256 and byte count. */
export async function hashStream(stream: AsyncIterable<Uint8Array>): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest('hex'), size };
}

/** Hashes a file in 1 MiB reads (larger reads were not faster on 2 cores; smaller ones were slower). */
export async function hashFile(path: string, range?: { start: number; end: number }): Promise<{ sha256: string; size: number }> {
  return hashStream(createReadStream(path, { highWaterMark: 1 << 20, ...range }));
}

/** Hashes bytes already in memory (the small metadata files). */
export function hashBytes(bytes: Uint8Array): { sha256: string; size: number } {
  return { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
}
