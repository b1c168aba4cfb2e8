// Shell completion generated from the command tree: the bash script is sourced in a real bash and its function run
// on sample command lines (COMP_WORDS as bash fills them); the zsh script likewise in a real zsh (package zsh).
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pathKindOf } from '../../src/cli/completion-model.ts';
import { runFerry } from './support/run-ferry.ts';

let dir: string;
let bashScript: string;
let zshScript: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-completion-'));
  const b = await runFerry('completion', 'bash');
  expect(b.code, b.err).toBe(0);
  bashScript = join(dir, 'ferry.bash');
  await writeFile(bashScript, b.out);
  const z = await runFerry('completion', 'zsh');
  expect(z.code, z.err).toBe(0);
  zshScript = join(dir, '_ferry');
  await writeFile(zshScript, z.out);
  await mkdir(join(dir, 'work', 'bundles'), { recursive: true });
  await writeFile(join(dir, 'work', 'cluster.yaml'), 'x');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Completions bash offers for `line` (the cursor at its end), from the sourced script. */
function complete(line: string): string[] {
  const words = line.split(' ');
  const script = `source ${JSON.stringify(bashScript)}; COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')}); COMP_CWORD=${words.length - 1}; _ferry; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', script], { cwd: join(dir, 'work'), encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split('\n').filter(Boolean).sort();
}

describe('ferry completion bash', () => {
  const rows: { line: string; has?: string[]; lacks?: string[]; exactly?: string[] }[] = [
    { line: 'ferry ', has: ['resolve', 'bundle', 'doctor', 'install', 'demo', 'completion', '--version'] },
    { line: 'ferry bu', exactly: ['bundle'] },
    { line: 'ferry bundle ', has: ['build', 'verify', 'inspect', 'unpack', 'apply'], lacks: ['resolve'] },
    { line: 'ferry bundle build --', has: ['--lock', '--spec', '--out', '--no-ferry-binary', '--json', '--help'], lacks: ['--inventory'] },
    { line: 'ferry install --dr', exactly: ['--dry-run'] },
    { line: 'ferry demo --', has: ['--keep', '--down', '--json', '--work-dir'] },
    { line: 'ferry install -i ', exactly: ['bundles', 'cluster.yaml'] },
    { line: 'ferry install --inventory clu', exactly: ['cluster.yaml'] },
    { line: 'ferry bundle build --lock l --out ', exactly: ['bundles'] },
    { line: 'ferry bundle verify ', exactly: ['bundles', 'cluster.yaml'] },
    { line: 'ferry resolve --os ', exactly: [] },
    { line: 'ferry resolve --gpu h100 --', has: ['--k8s', '--pin', '--json'] },
  ];
  for (const row of rows)
    it(`completes "${row.line}"`, () => {
      const got = complete(row.line);
      if (row.exactly) expect(got).toEqual(row.exactly);
      for (const w of row.has ?? []) expect(got).toContain(w);
      for (const w of row.lacks ?? []) expect(got).not.toContain(w);
    });

  it('refuses an unknown shell with exit 2', async () => {
    const r = await runFerry('completion', 'fish');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown shell "fish"/);
  });
});

describe('ferry completion zsh', () => {
  it('registers _ferry with compdef and knows the same commands and path flags', async () => {
    const { readFile } = await import('node:fs/promises');
    const text = await readFile(zshScript, 'utf8');
    expect(text.startsWith('#compdef ferry\n')).toBe(true);
    expect(text).toContain(`'bundle build|--lock') _files; return ;;`);
    expect(text).toContain(`'demo|--work-dir') _files -/; return ;;`);
    expect(text).toMatch(/'bundle'\) cands=\('build' 'verify' 'inspect' 'unpack' 'apply'/);
  });

  /** What _ferry offers for `line` in a real zsh, with compadd and _files standing in for the completion system's
   * builtins (they only exist inside a completion widget): they print what they were asked to offer. */
  function completeZsh(line: string): string[] {
    const words = line.split(' ');
    const script = `compadd() { [[ $1 == -- ]] && shift; print -l -- "$@"; }; _files() { print -- "FILES $*"; }; compdef() { :; }
source ${JSON.stringify(zshScript)}; words=(${words.map((w) => JSON.stringify(w)).join(' ')}); CURRENT=${words.length}; PREFIX=${JSON.stringify(words.at(-1))}; _ferry`;
    const r = spawnSync('zsh', ['-f', '-c', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.split('\n').filter(Boolean);
  }

  it('offers the same subcommands, flags and path completion in a real zsh', () => {
    expect(spawnSync('zsh', ['-n', zshScript]).status).toBe(0);
    expect(completeZsh('ferry bundle ')).toEqual(expect.arrayContaining(['build', 'verify', 'inspect']));
    expect(completeZsh('ferry demo --')).toEqual(expect.arrayContaining(['--keep', '--json']));
    expect(completeZsh('ferry install -i ')).toEqual(['FILES ']);
    expect(completeZsh('ferry demo --work-dir ')).toEqual(['FILES -/']);
    expect(completeZsh('ferry resolve --os ')).toEqual([]);
  });
});

describe('pathKindOf', () => {
  const rows: [string | undefined, string | undefined][] = [['<file>', 'file'], ['<dir>', 'dir'], ['<manifest>', 'file'], ['<path>', 'file'], ['<ids>', undefined], ['<SHA256:...>', undefined], [undefined, undefined]];
  for (const [placeholder, kind] of rows) it(`${placeholder} → ${kind}`, () => expect(pathKindOf(placeholder)).toBe(kind));
});
