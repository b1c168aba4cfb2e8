// The one resumable-download core: stream a body onto the end of a `.partial` file while hashing everything in
// it (the kept prefix first), end the file cleanly on a break so the bytes that arrived stay for the next Range
// request, judge the result against the expected size and digest, and rename a good file into place.
// Used by the plain-HTTP download (src/bundle/http/download.ts) and the registry blob download.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';

/** Bytes buffered towards the partial file before the network read waits for the disk. */
const WRITE_BUFFER = 1 << 20;

export interface AppendInput {
  /** The `.partial` file: `offset` is its length (its bytes are kept and hashed) or 0 (it is started over). */
  path: string;
  offset: number;
  body: AsyncIterable<Uint8Array>;
  /** Stop reading once the file would grow past this many bytes (a sender that sends too much). */
  limit?: number;
  onBytes?: (bytes: number) => void;
}

export interface AppendOutcome {
  /** Body bytes written in this call. */
  received: number;
  /** Bytes in the file now (offset + received). */
  size: number;
  /** sha256 of the whole file as written. */
  sha256: string;
  /** Why the body stopped early (a torn stream), if it did; what arrived is on disk. */
  failure?: unknown;
  /** The body went past `limit`: the file's content is wrong and should be dropped. */
  overLimit: boolean;
}

/** Append `body` to the partial file at `offset`, hashing the whole file on the way. */
export async function appendHashed(input: AppendInput): Promise<AppendOutcome> {
  const hash = createHash('sha256');
  if (input.offset > 0) for await (const chunk of createReadStream(input.path, { highWaterMark: WRITE_BUFFER })) hash.update(chunk as Buffer);
  // Written through a stream so disk writes overlap the network, waiting on drain so memory stays flat; on a break
  // the stream is ended, not destroyed, so whatever arrived is on disk for the resume.
  const file = createWriteStream(input.path, { flags: input.offset > 0 ? 'a' : 'w', highWaterMark: WRITE_BUFFER });
  const closed = new Promise<void>((resolve, reject) => file.once('close', resolve).once('error', reject));
  let received = 0;
  let failure: unknown;
  let overLimit = false;
  try {
    for await (const chunk of input.body) {
      if (input.limit !== undefined && input.offset + received + chunk.length > input.limit) {
        overLimit = true;
        break;
      }
      received += chunk.length;
      input.onBytes?.(chunk.length);
      hash.update(chunk);
      if (!file.write(chunk)) await once(file, 'drain');
    }
  } catch (error) {
    failure = error;
  }
  file.end();
  await closed;
  return { received, size: input.offset + received, sha256: hash.digest('hex'), overLimit, ...(failure === undefined ? {} : { failure }) };
}

/** What an appended file is, against what it should be: complete and right, short, too long, or wrong. */
export function judgePartial(outcome: Pick<AppendOutcome, 'size' | 'sha256' | 'overLimit'>, expected: { size?: number; sha256?: string }): 'ok' | 'short' | 'long' | 'digest' {
  if (outcome.overLimit || (expected.size !== undefined && outcome.size > expected.size)) return 'long';
  if (expected.size !== undefined && outcome.size < expected.size) return 'short';
  if (expected.sha256 !== undefined && outcome.sha256 !== expected.sha256) return 'digest';
  return 'ok';
}

/** Put a verified partial file in its place (one rename: readers never see half a file). */
export async function promotePartial(partial: string, dest: string): Promise<void> {
  await rename(partial, dest);
}
