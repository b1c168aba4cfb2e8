// Fuzz: structure-aware mutations of a real inventory, bundle spec and lock (and a site file) (drop a field, change a type, numbers out
// of range, bad addresses, duplicated keys, aliases). Whatever the mutation, ferry either accepts the file or refuses
// it as bad input: exit 2, the file named, no stack trace, never "internal error". Fixed seed, bounded count and time.
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadBundleSpec, loadInventory, loadLock, loadSiteFile } from '../../src/config/inputs.ts';
import { siteOf } from '../fixtures/site/rocky94-nodes.ts';
import { FerryError } from '../../src/errors.ts';
import { runFerry } from '../cli/support/run-ferry.ts';
import { seededRandom, type Random } from '../support/seeded-random.ts';

const SEED = 20261123;
const MUTANTS = 120;
const BUDGET_MS = 2500;
const read = (p: string) => readFileSync(new URL(p, import.meta.url), 'utf8');

type Path = (string | number)[];

/** Every path to a value in plain data, parents before children. */
function paths(value: unknown, at: Path = []): Path[] {
  if (value === null || typeof value !== 'object') return [at];
  const keys: (string | number)[] = Array.isArray(value) ? value.map((_v, i) => i) : Object.keys(value);
  return [at, ...keys.flatMap((k) => paths((value as Record<string | number, unknown>)[k], [...at, k]))];
}

function setAt(doc: unknown, path: Path, value: unknown | typeof DROP): void {
  const parent = path.slice(0, -1).reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], doc) as Record<string | number, unknown> | unknown[];
  const key = path.at(-1)!;
  if (value === DROP) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key as string];
  } else (parent as Record<string | number, unknown>)[key] = value;
}
const DROP = Symbol('drop');

const weird = [-1, 0, 0.5, 65536, 99999, 1e12, true, null, '', 'x', [], {}, '127.0.0.300', '10.244.0.0/33', '999.1.1.1:99999', '9.99', 'linux/sparc', '../../etc/passwd', '{nope}', 'A'.repeat(300)];

/** One structure-aware mutation of `text` (YAML); returns the mutant's text. */
function mutate(text: string, rnd: Random): string {
  const doc = parse(text) as unknown;
  const all = paths(doc).filter((p) => p.length > 0);
  const target = rnd.pick(all);
  switch (rnd.int(6)) {
    case 0: setAt(doc, target, DROP); break;
    case 1: setAt(doc, target, rnd.pick(weird)); break;
    case 2: setAt(doc, target, rnd.pick([-1, 0, 65536, 1e12, -0.5])); break;
    case 3: setAt(doc, target, rnd.pick(['127.0.0.300', '10.0.0.0/33', '10.20.0.11:99999', 'fd00::zz', '0.0.0.0/0', '10.20.0.11'])); break;
    case 4: {
      // A duplicated key: repeat one line of the rendered text (a mapping line, if it picks one).
      const lines = stringify(doc).split('\n');
      const i = rnd.int(lines.length - 1);
      lines.splice(i, 0, lines[i]!);
      return lines.join('\n');
    }
    default: {
      const bomb = 'x-a: &a [z, z, z, z, z, z, z, z, z, z]\nx-b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nx-c: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n';
      return rnd.int(2) === 0 ? `${bomb}${stringify(doc)}` : `${stringify(doc)}x-alias: *undefined_anchor\n`;
    }
  }
  return stringify(doc);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-fuzz-'));
});

const inputs = [
  {
    kind: 'inventory',
    text: read('../render/fixtures/cluster.yaml'),
    load: (file: string) => loadInventory(file, { homeDir: '/nonexistent' }),
    argv: (file: string) => ['doctor', '-i', file],
  },
  {
    kind: 'lock',
    text: read('../bundle/fixtures/lock-rocky9-h100.yaml'),
    load: (file: string) => loadLock(file),
    argv: (file: string) => ['bundle', 'build', '--lock', file, '--spec', new URL('../../bundles/gpu-cluster.yaml', import.meta.url).pathname, '--dry-run'],
  },
  {
    kind: 'bundle spec',
    text: read('../../bundles/gpu-cluster.yaml'),
    load: (file: string) => loadBundleSpec(file, { cwd: dir }),
    argv: (file: string) => ['bundle', 'build', '--lock', new URL('../bundle/fixtures/lock-rocky9-h100.yaml', import.meta.url).pathname, '--spec', file, '--dry-run'],
  },
  {
    kind: 'site file',
    text: stringify(siteOf([{ name: 'cp-1', roles: ['control-plane'] }, { name: 'gpu-1', roles: ['worker', 'gpu'], gpus: 8 }])),
    load: (file: string) => loadSiteFile(file),
    argv: (file: string) => ['bundle', 'build', '--lock', new URL('../bundle/fixtures/lock-rocky9-h100.yaml', import.meta.url).pathname, '--spec', new URL('../../bundles/gpu-cluster.yaml', import.meta.url).pathname, '--site', file, '--dry-run'],
  },
];

describe('fuzzed inputs are accepted or refused as bad input, never crash', () => {
  it.each(inputs)('$kind', async ({ kind, text, load, argv }) => {
    const rnd = seededRandom(SEED + kind.length);
    const started = Date.now();
    let refused = 0;
    let tried = 0;
    for (; tried < MUTANTS && Date.now() - started < BUDGET_MS; tried++) {
      const mutant = mutate(text, rnd);
      const file = join(dir, `${kind.replace(' ', '-')}-${tried}.yaml`);
      await writeFile(file, mutant);
      const error = await load(file).then(() => undefined, (e: unknown) => e);
      if (error === undefined) continue;
      expect(error, `mutant ${tried}:\n${mutant}`).toBeInstanceOf(FerryError);
      expect((error as FerryError).exitCode, `mutant ${tried}: ${(error as Error).message}`).toBe(2);
      refused++;
      // Every fifth refusal also through the CLI: the exit code, the file named, no stack trace.
      if (refused % 5 !== 1) continue;
      const r = await runFerry(...argv(file));
      expect(r.code, `mutant ${tried}:\n${mutant}\n${r.err}`).toBe(2);
      expect(r.err).toContain(file);
      expect(r.err).not.toMatch(/internal error|\n\s+at \S+ \(/);
    }
    expect(tried).toBeGreaterThan(20);
    expect(refused).toBeGreaterThan(tried / 3);
  }, 20_000);
});
