import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inventoryJsonSchema } from '../../src/config/inventory-schema.ts';
import { Inventory } from '../../src/config/inventory.ts';
import { parseYaml } from '../../src/config/parse.ts';
import { InputError } from '../../src/errors.ts';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('published inventory schema', () => {
  it('schemas/cluster.schema.json is what the zod schema generates (run: node scripts/gen-schemas.ts)', () => {
    expect(read('schemas/cluster.schema.json')).toBe(inventoryJsonSchema());
  });
  it('names every top-level field of the inventory, with the required ones', () => {
    const schema = JSON.parse(inventoryJsonSchema());
    expect(Object.keys(schema.properties)).toEqual(['apiVersion', 'kind', 'name', 'ssh', 'network', 'kubernetes', 'hosts']);
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
      expect((error as InputError).issues[0]).toMatchObject({ file: 'cluster.yaml', line: 17, field: 'network.encapsulation' });
    }
  });
});
