// Load, check and precompute the matrix for a command: the step `resolve` and `matrix` share.
import { resolve as resolvePath } from 'node:path';
import { InputError } from '../errors.ts';
import { buildCatalog, type Catalog } from '../matrix/catalog.ts';
import { checkMatrix } from '../matrix/check.ts';
import { DEFAULT_MATRIX_DIR, loadMatrix, type LoadedMatrix } from '../matrix/load.ts';
import type { CommandContext } from './program.ts';

/** The matrix from --matrix DIR (relative to the cwd) or the repo's matrices/, checked; bad data is exit 2. */
export async function openMatrix(ctx: CommandContext, dir: string | undefined): Promise<LoadedMatrix & { catalog: Catalog }> {
  const loaded = await loadMatrix(dir ? resolvePath(ctx.cwd, dir) : DEFAULT_MATRIX_DIR);
  const issues = checkMatrix(loaded.matrix, loaded.files);
  if (issues.length > 0) throw new InputError(issues, { hint: 'fix the matrix files named above (`ferry matrix check` lists every problem)' });
  return { ...loaded, catalog: buildCatalog(loaded.matrix) };
}
