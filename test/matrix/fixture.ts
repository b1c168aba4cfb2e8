// The real matrix (matrices/*.yaml in this repo), loaded once per test file: the tests run against the data
// ferry ships, so a fact that changes there shows up here.
import { buildCatalog, type Catalog } from '../../src/matrix/catalog.ts';
import { loadMatrix, type LoadedMatrix } from '../../src/matrix/load.ts';
import { parseRequest, type RawRequest } from '../../src/matrix/request.ts';
import { resolve, type Resolution } from '../../src/matrix/resolve.ts';

/** The date the tests resolve at: the day this matrix was last reviewed. */
export const NOW = new Date('2026-12-07T00:00:00Z');

/** Load matrices/ from this repo and precompute it, as the CLI does. */
export async function realMatrix(): Promise<LoadedMatrix & { catalog: Catalog }> {
  const loaded = await loadMatrix();
  return { ...loaded, catalog: buildCatalog(loaded.matrix) };
}

/** Resolve a raw request the way the CLI does. */
export function resolveRaw(catalog: Catalog, raw: RawRequest, now: Date = NOW): Resolution {
  return resolve(catalog, parseRequest(catalog, raw), now);
}
