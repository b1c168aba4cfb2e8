// Writes the published JSON Schemas (schemas/*.schema.json) from the zod schemas; test/config checks they match.
import { writeFileSync } from 'node:fs';
import { bundleSpecJsonSchema } from '../src/config/bundle-spec-json-schema.ts';

writeFileSync(new URL('../schemas/bundle-spec.schema.json', import.meta.url), bundleSpecJsonSchema());
