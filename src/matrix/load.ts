// Read matrices/*.yaml from disk: validate each file (file:line:column:field errors), assemble the Matrix,
// and digest the bytes so a lock can tell which matrix it came from. The only matrix code that touches the disk.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseYaml } from '../config/parse.ts';
import { embeddedFiles } from '../ship/embedded.ts';
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

interface MatrixText {
  path: string;
  bytes: Buffer;
}

async function readMatrixDir(dir: string): Promise<MatrixText[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.yaml') || n.endsWith('.yml')).sort();
  } catch (error) {
    throw new UserError(`cannot read matrix directory ${dir}: ${(error as NodeJS.ErrnoException).code ?? error}`, {
      cause: error,
      hint: 'pass --matrix DIR with the matrix files (os.yaml, kubernetes.yaml, ...)',
    });
  }
  return Promise.all(names.map(async (name) => ({ path: join(dir, name), bytes: await readFile(join(dir, name)) })));
}

/** The matrix files carried inside the single executable, named as in the repo. */
function embeddedMatrix(): MatrixText[] | undefined {
  const files = embeddedFiles('matrices');
  if (!files) return undefined;
  return [...files]
    .filter(([name]) => name.endsWith('.yaml') || name.endsWith('.yml'))
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, bytes]) => ({ path: `matrices/${name}`, bytes }));
}

/** Load every *.yaml in `dir` (by default the repo's, or the copy inside the single executable); one file of each kind. */
export async function loadMatrix(dir: string = DEFAULT_MATRIX_DIR): Promise<LoadedMatrix> {
  const texts = (dir === DEFAULT_MATRIX_DIR ? embeddedMatrix() : undefined) ?? (await readMatrixDir(dir));
  return parseMatrix(texts, dir);
}

/** Validate and assemble matrix files already read; pure. */
export function parseMatrix(texts: readonly MatrixText[], dir: string): LoadedMatrix {
  const hash = createHash('sha256');
  const parts: Partial<Matrix> = {};
  const files: Partial<Record<keyof Matrix, string>> = {};
  const issues: InputIssue[] = [];
  for (const { path, bytes } of texts) {
    hash.update(bytes);
    try {
      const file = parseYaml(bytes.toString('utf8'), path, MatrixFile);
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
      issues.push({ file: dir, message: `no matrix file of kind ${kind} (known files: ${texts.map((t) => basename(t.path)).join(', ') || 'none'})` });
  }
  if (issues.length > 0) throw new InputError(issues);
  return { matrix: parts as Matrix, digest: `sha256:${hash.digest('hex')}`, files: files as Record<keyof Matrix, string> };
}
