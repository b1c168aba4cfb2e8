// Split packing's index (ferry-bundle.index.yaml) and the stream that reads chunk files back as one tar.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { stringify } from 'yaml';
import { z } from 'zod';
import { parseYaml } from '../config/parse.ts';
import { hashFile } from '../util/hash.ts';

export const ChunkIndex = z
  .object({
    apiVersion: z.literal('ferry.dev/v1alpha1'),
    kind: z.literal('ChunkIndex'),
    chunkSize: z.number().int().positive(),
    totalSize: z.number().int().nonnegative(),
    chunks: z.array(
      z
        .object({
          name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'must be a plain file name'),
          size: z.number().int().nonnegative(),
          sha256: z.string().regex(/^[0-9a-f]{64}$/),
        })
        .strict(),
    ),
  })
  .strict();
export type ChunkIndex = z.infer<typeof ChunkIndex>;

/** Renders the chunk index written next to the chunks. */
export function renderChunkIndex(index: ChunkIndex): string {
  return stringify(ChunkIndex.parse(index));
}

/** Parses the chunk index with file:line errors. */
export function parseChunkIndex(text: string, file: string): ChunkIndex {
  return parseYaml(text, file, ChunkIndex);
}

/**
 * The chunks, in order, as one byte stream. A missing or short chunk is reported through `problem` (the tar parser
 * downstream then reports what it could not read); with `hash`, each chunk is also checked against the index as it
 * streams (verify leaves that out and calls checkChunks only when something is wrong: one hash per byte, not two).
 */
export function chunkStream(dir: string, index: ChunkIndex, problem: (text: string) => void, options: { hash: boolean } = { hash: true }): Readable {
  async function* read() {
    for (const chunk of index.chunks) {
      const hash = options.hash ? createHash('sha256') : undefined;
      let size = 0;
      try {
        for await (const data of createReadStream(join(dir, chunk.name), { highWaterMark: 1 << 20 })) {
          hash?.update(data as Buffer);
          size += (data as Buffer).length;
          yield data as Buffer;
        }
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        problem(`${chunk.name}: ${code === 'ENOENT' ? 'missing chunk' : `unreadable (${code ?? String(error)})`}`);
        return;
      }
      if (size !== chunk.size) problem(`${chunk.name}: size ${size}, index says ${chunk.size}`);
      else if (hash && hash.digest('hex') !== chunk.sha256) problem(`${chunk.name}: checksum does not match the index`);
    }
  }
  return Readable.from(read(), { objectMode: false });
}

/** Hashes every chunk against the index, to name the damaged ones once verify has found damage. */
export async function checkChunks(dir: string, index: ChunkIndex): Promise<string[]> {
  const problems: string[] = [];
  for (const chunk of index.chunks) {
    const got = await hashFile(join(dir, chunk.name)).catch(() => undefined);
    if (!got) problems.push(`${chunk.name}: missing chunk`);
    else if (got.size !== chunk.size) problems.push(`${chunk.name}: size ${got.size}, index says ${chunk.size}`);
    else if (got.sha256 !== chunk.sha256) problems.push(`${chunk.name}: checksum does not match the index`);
  }
  return problems;
}
