// Read one small metadata file (repomd.xml, modules.yaml) from a repository given by base URL: http(s) or file.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { gunzipSync, zstdDecompressSync } from 'node:zlib';
import { UserError } from '../../errors.ts';
import type { Host } from '../../hosts/host.ts';
import { displayUrl } from '../http/mirror.ts';

/** The bytes of `rel` under `baseurl` (`rel` empty: `baseurl` itself, e.g. a key file); metadata only, small enough to hold in memory. */
export async function readRepoFile(baseurl: string, rel: string, signal?: AbortSignal): Promise<Buffer> {
  const url = rel === '' ? new URL(baseurl) : new URL(rel, baseurl.endsWith('/') ? baseurl : `${baseurl}/`);
  if (url.protocol === 'file:') return readFile(fileURLToPath(url));
  const response = await fetch(url, { signal });
  if (!response.ok) throw new UserError(`cannot read ${displayUrl(url.toString())}: HTTP ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

/** Decompress metadata by its file name (.gz, .zst, .xz, .bz2, or plain), as createrepo_c may have written it. */
export async function decompressByName(name: string, data: Buffer, host: Host): Promise<string> {
  if (name.endsWith('.gz')) return gunzipSync(data).toString('utf8');
  if (name.endsWith('.zst')) return zstdDecompressSync(data).toString('utf8');
  if (name.endsWith('.xz')) return (await host.exec(['xz', '-dc'], { stdin: data })).stdout;
  if (name.endsWith('.bz2')) return (await host.exec(['bzip2', '-dc'], { stdin: data })).stdout;
  return data.toString('utf8');
}
