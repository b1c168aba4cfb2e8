// Files carried inside the single executable (SEA assets). Outside a single executable there are none.
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
