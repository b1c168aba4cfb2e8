// Loads the real (and documented-reconstructed) gather.sh outputs under test/fixtures/facts and parses them.
import { readFileSync } from 'node:fs';
import { parseFacts } from '../../src/facts/parse.ts';
import type { Facts } from '../../src/facts/types.ts';

export type FixtureName = 'debian12-admin-host' | 'debian12-lab-node' | 'rocky8-gpu-reconstructed';

export function fixtureText(name: FixtureName): string {
  return readFileSync(new URL(`../fixtures/facts/${name}/gather.out`, import.meta.url), 'utf8');
}

export function fixtureFacts(name: FixtureName, host: string = name): Facts {
  return parseFacts(host, fixtureText(name));
}
