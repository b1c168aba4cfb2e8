// Files carried inside the single executable (SEA assets). Outside a single executable there are none.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

interface SeaApi {
  isSea(): boolean;
  getAsset(key: string): ArrayBuffer;
  getAssetKeys(): string[];
}

function seaApi(): SeaApi | undefined {
  try {
    const sea = createRequire(import.meta.url)('node:sea') as SeaApi;
    return sea.isSea() ? sea : undefined;
  } catch {
    return undefined;
  }
}

/** True when ferry runs as the single executable. */
export function isSingleExecutable(): boolean {
  return seaApi() !== undefined;
}

/** The embedded files whose keys start with `dir/`, by name below it; undefined when not a single executable. */
export function embeddedFiles(dir: string): Map<string, Buffer> | undefined {
  const sea = seaApi();
  if (!sea) return undefined;
  const files = new Map<string, Buffer>();
  for (const key of sea.getAssetKeys()) if (key.startsWith(`${dir}/`)) files.set(key.slice(dir.length + 1), Buffer.from(sea.getAsset(key)));
  return files;
}

/** Files that ship inside the single executable besides the matrices: read at run time by their repo path. */
export const PRODUCT_FILES = [
  'src/facts/gather.sh', 'src/probes/agent.py', 'src/phases/seed-serve.py', 'src/phases/seed-fetch.py',
  'playbooks/install.yaml', 'playbooks/add-node.yaml', 'playbooks/upgrade.yaml', 'playbooks/certs-renew.yaml',
  // The shipped spec `ferry demo` builds from.
  'bundles/gpu-cluster.yaml',
] as const;

/** A shipped file by its path in the repo: the embedded copy in the single executable, else the file in the checkout. */
export async function productFile(path: (typeof PRODUCT_FILES)[number]): Promise<string> {
  const sea = seaApi();
  if (sea) return Buffer.from(sea.getAsset(path)).toString('utf8');
  return readFile(new URL(`../../${path}`, import.meta.url), 'utf8');
}
