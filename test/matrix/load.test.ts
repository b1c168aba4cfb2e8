import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError, UserError } from '../../src/errors.ts';
import { DEFAULT_MATRIX_DIR, loadMatrix } from '../../src/matrix/load.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-matrix-'));
  await cp(DEFAULT_MATRIX_DIR, dir, { recursive: true });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function issuesOf(): Promise<InputError> {
  try {
    await loadMatrix(dir);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected an InputError');
}

describe('loadMatrix', () => {
  it('loads the real matrix and digests its bytes in name order', async () => {
    const a = await loadMatrix(dir);
    const b = await loadMatrix(DEFAULT_MATRIX_DIR);
    expect(a.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(a.digest).toBe(b.digest);
    await writeFile(join(dir, 'gpus.yaml'), `${await readFile(join(dir, 'gpus.yaml'), 'utf8')}# touched\n`);
    expect((await loadMatrix(dir)).digest).not.toBe(a.digest);
  });

  it('names file, line and field of an unquoted version (YAML reads 8.10 as the number 8.1)', async () => {
    const path = join(dir, 'os.yaml');
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.replace('version: "8.10"', 'version: 8.10'));
    const error = await issuesOf();
    const issue = error.issues[0]!;
    expect(issue.file).toBe(path);
    expect(issue.field).toBe('releases[4].version');
    expect(issue.line).toBe(text.split('\n').findIndex((l) => l.includes('version: "8.10"')) + 1);
  });

  it('reports broken YAML syntax with its position', async () => {
    await writeFile(join(dir, 'runc.yaml'), 'kind: RuncReleases\nreleases: [\n');
    const issue = (await issuesOf()).issues[0]!;
    expect(issue.file).toBe(join(dir, 'runc.yaml'));
    expect(issue.line).toBeGreaterThan(1);
  });

  it('refuses a fact without its source', async () => {
    const path = join(dir, 'gpus.yaml');
    await writeFile(path, (await readFile(path, 'utf8')).replace(/source: https:\/\/www\.nvidia\.com\/en-us\/drivers\/unix\/legacy-gpu\/, /, ''));
    const issue = (await issuesOf()).issues[0]!;
    expect(issue).toMatchObject({ file: path, field: 'models[0].source' });
  });

  it('refuses a missing family and a family defined twice', async () => {
    await rm(join(dir, 'cni.yaml'));
    expect((await issuesOf()).message).toMatch(/no matrix file of kind CniReleases/);
    await cp(join(dir, 'runc.yaml'), join(dir, 'runc-copy.yaml'));
    expect((await issuesOf()).message).toMatch(/RuncReleases is also defined in/);
  });

  it('refuses a directory that does not exist as bad input', async () => {
    await expect(loadMatrix(join(dir, 'nope'))).rejects.toThrow(UserError);
  });
});
