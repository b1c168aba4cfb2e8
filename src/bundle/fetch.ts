// Small upstream texts (checksum files named by a spec's sha256Url), from http, https or file URLs. Artifacts
// themselves go through http/download.ts (resume, retries, cache).
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.ts';

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

/** Fetches a small file (a .sha256 file, a repository key); capped so a wrong URL cannot fill memory. */
export async function fetchSmall(url: string, what: string, signal?: AbortSignal): Promise<Buffer> {
  if (url.startsWith('file://')) return readFile(fileURLToPath(url));
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of await openUrl(url, signal)) {
    size += (chunk as Buffer).length;
    if (size > 1 << 20) throw new UserError(`${url}: larger than 1 MiB, not ${what}`);
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

/** Fetches a small text (a .sha256 file). */
export async function fetchText(url: string, signal?: AbortSignal): Promise<string> {
  return (await fetchSmall(url, 'a checksum file', signal)).toString('utf8');
}
