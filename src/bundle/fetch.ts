// Streams one upstream URL (http, https or file) to a file, hashing as it goes; the download lands under a
// temporary name and is renamed only when complete (and, when a sha256 is expected, only when it matches).
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { UserError, VerifyError } from '../errors.ts';

/** Opens a URL as a byte stream; errors name the URL (never credentials: URLs in specs carry none). */
async function openUrl(url: string, signal?: AbortSignal): Promise<Readable> {
  if (url.startsWith('file://')) return createReadStream(fileURLToPath(url), { highWaterMark: 1 << 20 });
  if (!/^https?:\/\//.test(url)) throw new UserError(`${url}: only http, https and file URLs can be fetched`);
  let res: Response;
  try {
    res = await fetch(url, { signal, redirect: 'follow' });
  } catch (error) {
    throw new UserError(`cannot fetch ${url}: ${(error as Error).cause ? String((error as Error).cause) : String(error)}`, {
      hint: 'check the URL, or point the spec at a mirror you can reach (mirrors: in the bundle spec)',
    });
  }
  if (!res.ok || !res.body) throw new UserError(`cannot fetch ${url}: HTTP ${res.status}`, { hint: 'check the URL and version in the bundle spec' });
  return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
}

/** Downloads `url` to `dest`; returns its sha256 and size. A wrong checksum is a VerifyError naming the URL. */
export async function fetchToFile(url: string, dest: string, options: { sha256?: string; signal?: AbortSignal } = {}): Promise<{ sha256: string; size: number }> {
  await mkdir(dirname(dest), { recursive: true });
  const partial = `${dest}.partial`;
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  try {
    await pipeline(await openUrl(url, options.signal), tap, createWriteStream(partial));
  } catch (error) {
    await rm(partial, { force: true });
    if (error instanceof UserError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(`cannot fetch ${url}: ${code === 'ENOENT' ? 'no such file' : String(code ?? error)}`);
  }
  const sha256 = hash.digest('hex');
  if (options.sha256 && options.sha256 !== sha256) {
    await rm(partial, { force: true });
    throw new VerifyError([`${url}: sha256 ${sha256}, expected ${options.sha256}`], { hint: 'the upstream file changed or a mirror serves another file' });
  }
  await rename(partial, dest);
  return { sha256, size };
}

/** Fetches a small text (a .sha256 file); capped so a wrong URL cannot fill memory. */
export async function fetchText(url: string, signal?: AbortSignal): Promise<string> {
  if (url.startsWith('file://')) return readFile(fileURLToPath(url), 'utf8');
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of await openUrl(url, signal)) {
    size += (chunk as Buffer).length;
    if (size > 1 << 20) throw new UserError(`${url}: larger than 1 MiB, not a checksum file`);
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts).toString('utf8');
}
