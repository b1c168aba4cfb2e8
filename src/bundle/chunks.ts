// Split packing's index (ferry-bundle.index.yaml) and the stream that reads chunk files back as one tar.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { stringify } from 'yaml';
import { z } from 'zod';
import { parseYaml } from '../config/parse.ts';
import { FerryError, VerifyError } from '../errors.ts';
import { hashBytes } from '../util/hash.ts';

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

/** The index without its own checksum, rendered: the bytes the checksum line covers. */
function renderBody(index: ChunkIndex): string {
  return stringify(ChunkIndex.parse(index));
}

/**
 * Renders the chunk index written next to the chunks, ending in `indexSha256: <hex>` over the lines before it: the
 * index is not inside the signed tar (it is written after it), so it carries its own checksum.
 */
export function renderChunkIndex(index: ChunkIndex): string {
  const body = renderBody(index);
  return `${body}indexSha256: ${hashBytes(Buffer.from(body)).sha256}\n`;
}

/** Parses the chunk index; any damage (bad YAML, a changed byte, a missing checksum) is a VerifyError naming the file. */
export function parseChunkIndex(text: string, file: string): ChunkIndex {
  const name = file.split('/').at(-1) ?? file;
  const m = /^([\s\S]*)indexSha256: ([0-9a-f]{64})\n$/.exec(text);
  if (!m) throw new VerifyError([`${name}: damaged: its last line is not indexSha256: <sha256 of the lines before it>`]);
  if (hashBytes(Buffer.from(m[1]!)).sha256 !== m[2]) throw new VerifyError([`${name}: damaged: its content does not match its indexSha256`]);
  let index: ChunkIndex;
  try {
    index = parseYaml(m[1]!, file, ChunkIndex);
  } catch (error) {
    throw new VerifyError([`${name}: damaged: ${error instanceof FerryError ? error.message : String(error)}`]);
  }
  if (renderBody(index) !== m[1]) throw new VerifyError([`${name}: damaged: not byte for byte what ferry writes`]);
  return index;
}

/**
 * The chunks, in order, as one byte stream. A missing or short chunk is reported through `problem` (the tar parser
 * downstream then reports what it could not read); with `hash`, each chunk is also checked against the index as it
 * streams (verify and unpack both do: damage in tar padding is invisible to the tar parser).
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
