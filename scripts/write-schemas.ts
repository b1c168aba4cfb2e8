// Writes schemas/*.schema.json from the zod schemas (test/config/json-schemas.test.ts checks they are current).
import { writeFileSync } from 'node:fs';
import { publishedSchemas } from '../src/config/json-schemas.ts';

for (const { file, text } of publishedSchemas()) writeFileSync(new URL(`../schemas/${file}`, import.meta.url), text);
