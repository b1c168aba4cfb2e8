// The bundle spec's JSON Schema, for editors (yaml-language-server) and other tools; generated from the zod schema.
import { z } from 'zod';
import { BundleSpec } from './bundle-spec.ts';

/** Renders schemas/bundle-spec.schema.json (input shape: fields with defaults are optional). */
export function bundleSpecJsonSchema(): string {
  const schema = z.toJSONSchema(BundleSpec, { io: 'input', unrepresentable: 'any' });
  return `${JSON.stringify({ ...schema, title: 'ferry bundle spec (bundles/*.yaml)' }, null, 2)}\n`;
}
