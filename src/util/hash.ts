// sha256 of streams, files and bytes, never holding a large artifact whole: the one hashing helper of ferry.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

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
