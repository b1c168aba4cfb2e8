import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { BundleSpec } from '../../src/config/bundle-spec.ts';
import { parseYaml } from '../../src/config/parse.ts';

const read = (p: string) => readFileSync(new URL(p, import.meta.url), 'utf8');

describe('bundle spec schema', () => {
  it.each(['gpu-cluster.yaml', 'example-local.yaml'])('accepts bundles/%s', (file) => {
    expect(parseYaml(read(`../../bundles/${file}`), file, BundleSpec).kind).toBe('BundleSpec');
  });

  it.each([
    ['a password written inline', 'registries:\n  credentials:\n    - { registry: nvcr.io, username: u, password: hunter2 }\n', /registries.credentials\[0\]/],
    ['a file with both sha256 and sha256Url', `files:\n  - { component: k, name: k, version: "1", url: "https://x", sha256: "${'a'.repeat(64)}", sha256Url: "https://x.sha256" }\n`, /exactly one of sha256 or sha256Url/],
  ])('rejects %s, naming the line and field', (_name, extra, pattern) => {
    const text = `apiVersion: ferry.dev/v1alpha1\nkind: BundleSpec\nname: t\n${extra}`;
    const error = (() => {
      try {
        parseYaml(text, 'spec.yaml', BundleSpec);
      } catch (e) {
        return e as InputError;
      }
    })();
    expect(error).toBeInstanceOf(InputError);
    expect(error!.message).toMatch(pattern);
    expect(error!.issues[0]!.line).toBeGreaterThanOrEqual(4);
  });
});
