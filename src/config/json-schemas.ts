// The published JSON Schemas (schemas/*.schema.json), generated from the zod schemas so the two never disagree.
// Editors read them through yaml-language-server; tests check the committed files are current.
import { z } from 'zod';
import { BundleSpec } from './bundle-spec.ts';
import { Inventory } from './inventory.ts';
import { SiteFile } from './site.ts';

/** Each published schema: its file under schemas/ and its rendered text (input shape: fields with defaults are optional). */
export function publishedSchemas(): { file: string; text: string }[] {
  const render = (schema: z.ZodType, title: string) =>
    `${JSON.stringify({ ...z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }), title }, null, 2)}\n`;
  return [
    { file: 'cluster.schema.json', text: render(Inventory, 'ferry cluster inventory (cluster.yaml)') },
    { file: 'bundle-spec.schema.json', text: render(BundleSpec, 'ferry bundle spec (bundles/*.yaml)') },
    { file: 'site.schema.json', text: render(SiteFile, 'ferry site file (ferry doctor --site-out, read by ferry bundle build --site)') },
  ];
}
