// Read matrices/*.yaml from disk: validate each file (file:line:column:field errors), assemble the Matrix,
// and digest the bytes so a lock can tell which matrix it came from. The only matrix code that touches the disk.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadYamlFile } from '../config/load.ts';
import { InputError, UserError, type InputIssue } from '../errors.ts';
import { KIND_FIELD, MatrixFile, type Matrix } from './schema.ts';

/** The repo's matrices/ directory, found from this source file so that the cwd does not matter. */
export const DEFAULT_MATRIX_DIR = fileURLToPath(new URL('../../matrices/', import.meta.url));

export interface LoadedMatrix {
  matrix: Matrix;
  /** `sha256:<hex>` over the files' bytes, in file-name order. */
  digest: string;
  /** Which file each part came from, for messages. */
  files: Record<keyof Matrix, string>;
}

/** Load every *.yaml in `dir`; exactly one file of each kind must be present. */
export async function loadMatrix(dir: string = DEFAULT_MATRIX_DIR): Promise<LoadedMatrix> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.yaml') || n.endsWith('.yml')).sort();
  } catch (error) {
    throw new UserError(`cannot read matrix directory ${dir}: ${(error as NodeJS.ErrnoException).code ?? error}`, {
      cause: error,
      hint: 'pass --matrix DIR with the matrix files (os.yaml, kubernetes.yaml, ...)',
    });
  }
  const hash = createHash('sha256');
  const parts: Partial<Matrix> = {};
  const files: Partial<Record<keyof Matrix, string>> = {};
  const issues: InputIssue[] = [];
  for (const name of names) {
    const path = join(dir, name);
    hash.update(await readFile(path));
    try {
      const file = await loadYamlFile(path, MatrixFile);
      const field = KIND_FIELD[file.kind];
      if (files[field]) issues.push({ file: path, field: 'kind', message: `${file.kind} is also defined in ${files[field]}` });
      else {
        (parts as Record<string, unknown>)[field] = file;
        files[field] = path;
      }
    } catch (error) {
      if (error instanceof InputError) issues.push(...error.issues);
      else throw error;
    }
  }
  for (const [kind, field] of Object.entries(KIND_FIELD)) {
    if (!files[field] && issues.length === 0)
      issues.push({ file: dir, message: `no matrix file of kind ${kind} (known files: ${names.join(', ') || 'none'})` });
  }
  if (issues.length > 0) throw new InputError(issues);
  return { matrix: parts as Matrix, digest: `sha256:${hash.digest('hex')}`, files: files as Record<keyof Matrix, string> };
}
