// Which ferry executable a bundle carries as bin/ferry: this very executable when ferry runs as one; else
// dist/ferry of this checkout when it was built from the current sources; else it is built now (scripts/build-sea.ts).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { withFileLock } from '../lab/file-lock.ts';
import { isSingleExecutable } from './embedded.ts';
import { SEA_INPUTS, sourceDigest } from './source-digest.ts';

/** The checkout ferry runs from (when it does not run as the single executable). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface FerryBinary {
  path: string;
  /** How it was found, for the progress line: `this executable`, `dist/ferry (current)`, `built dist/ferry in 5.1 s`. */
  origin: string;
}

async function filesUnder(root: string, dir: string): Promise<string[]> {
  const entries = await readdir(join(root, dir), { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(root, join(e.parentPath, e.name)));
}

/** The source digest of a checkout (SEA_INPUTS), read from disk. */
export async function checkoutDigest(root: string): Promise<string> {
  const paths = [...(await Promise.all(SEA_INPUTS.dirs.map((d) => filesUnder(root, d)))).flat(), ...SEA_INPUTS.files.filter((f) => existsSync(join(root, f)))];
  return sourceDigest(await Promise.all(paths.map(async (path) => ({ path, content: await readFile(join(root, path)) }))));
}

/** The executable for bin/ferry (see the file comment); builds it under a lock when missing or stale: into dist/ of
 * the checkout, or into `fallbackDir` (e.g. the bundle cache) when dist/ is not writable (a root-owned checkout). */
export async function ferryBinaryForBundle(options: { root?: string; fallbackDir?: string } = {}): Promise<FerryBinary> {
  if (isSingleExecutable()) return { path: process.execPath, origin: 'this executable' };
  const root = options.root ?? REPO_ROOT;
  const digest = await checkoutDigest(root);
  try {
    return await buildInto(root, join(root, 'dist'), digest, 'dist/ferry');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (!options.fallbackDir || (code !== 'EACCES' && code !== 'EROFS' && code !== 'EPERM')) throw error;
    return buildInto(root, options.fallbackDir, digest, join(options.fallbackDir, 'ferry'));
  }
}

async function buildInto(root: string, dir: string, digest: string, shown: string): Promise<FerryBinary> {
  const out = join(dir, 'ferry');
  const stamp = `${out}.source-sha256`;
  const current = async () => existsSync(out) && (await readFile(stamp, 'utf8').catch(() => '')).trim() === digest;
  if (await current()) return { path: out, origin: `${shown}, current` };
  await mkdir(dir, { recursive: true });
  return withFileLock(join(dir, '.build-sea.lock'), async () => {
    if (await current()) return { path: out, origin: `${shown}, built by a parallel run` };
    const started = performance.now();
    await promisify(execFile)(process.execPath, [join(root, 'scripts', 'build-sea.ts'), '--out', out], { cwd: root });
    await writeFile(stamp, `${digest}\n`);
    return { path: out, origin: `built ${shown} from the sources in ${((performance.now() - started) / 1000).toFixed(1)} s` };
  });
}
