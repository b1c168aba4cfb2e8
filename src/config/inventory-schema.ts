// The published JSON Schema of cluster.yaml, generated from the zod schema so the two can never disagree.
import { z } from 'zod';
import { Inventory } from './inventory.ts';

/** JSON Schema (draft 2020-12) of the inventory, as committed in schemas/cluster.schema.json. */
export function inventoryJsonSchema(): string {
  const schema = z.toJSONSchema(Inventory, { io: 'input', unrepresentable: 'any' });
  return `${JSON.stringify({ ...schema, title: 'ferry cluster inventory (cluster.yaml)' }, null, 2)}\n`;
}
