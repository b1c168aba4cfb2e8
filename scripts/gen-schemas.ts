// Writes schemas/cluster.schema.json from the zod inventory schema (test/config/inventory-schema.test.ts checks it is current).
import { writeFile } from 'node:fs/promises';
import { inventoryJsonSchema } from '../src/config/inventory-schema.ts';

await writeFile(new URL('../schemas/cluster.schema.json', import.meta.url), inventoryJsonSchema());
