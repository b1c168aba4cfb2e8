import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { publishedSchemas } from '../../src/config/json-schemas.ts';
import { Inventory } from '../../src/config/inventory.ts';
import { parseYaml } from '../../src/config/parse.ts';
import { InputError } from '../../src/errors.ts';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

const published = (file: string) => publishedSchemas().find((s) => s.file === file)!.text;

describe('published JSON Schemas', () => {
  it.each(publishedSchemas().map((s) => s.file))('schemas/%s is what the zod schema generates (run: node scripts/write-schemas.ts)', (file) => {
    expect(read(`schemas/${file}`)).toBe(published(file));
  });
  it('names every top-level field of the inventory, with the required ones', () => {
    const schema = JSON.parse(published('cluster.schema.json'));
    expect(Object.keys(schema.properties)).toEqual(['apiVersion', 'kind', 'name', 'ssh', 'network', 'kubernetes', 'selinux', 'upgrade', 'hosts']);
    expect(schema.required).toEqual(['apiVersion', 'kind', 'name', 'network', 'hosts']);
  });
});

describe('examples/cluster.yaml', () => {
  it('is a valid inventory', () => {
    const inv = parseYaml(read('examples/cluster.yaml'), 'examples/cluster.yaml', Inventory);
    expect(inv.hosts.map((h) => h.name)).toEqual(['cp-1', 'cp-2', 'cp-3', 'gpu-1', 'gpu-2']);
    expect(inv.network.encapsulation).toBe('auto');
  });
  it('turned invalid, names file, line and field', () => {
    const broken = read('examples/cluster.yaml').replace('encapsulation: auto', 'encapsulation: gre');
    try {
      parseYaml(broken, 'cluster.yaml', Inventory);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).issues[0]).toMatchObject({ file: 'cluster.yaml', line: 18, field: 'network.encapsulation' });
    }
  });
});
