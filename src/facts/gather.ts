// Gathers one node's facts in a single round trip: gather.sh goes over stdin to `sh -s`, the output is parsed.
import type { Host } from '../hosts/host.ts';
import { productFile } from '../ship/embedded.ts';
import { parseFacts } from './parse.ts';
import type { Facts } from './types.ts';

/** The read-only script, as shipped beside this file (or inside the single executable). */
export async function gatherScript(): Promise<string> {
  return productFile('src/facts/gather.sh');
}

/**
 * Run gather.sh on `host` and parse its output. `packages`: also list every installed package (same round trip;
 * `rpm -qa` reads the whole rpm database, so only `ferry doctor --site-out` asks).
 */
export async function gatherFacts(host: Host, options: { script?: string; timeoutMs?: number; packages?: boolean } = {}): Promise<Facts> {
  const script = options.script ?? (await gatherScript());
  const stdin = options.packages ? `want_packages=1\n${script}` : script;
  const result = await host.exec(['sh', '-s'], { stdin, readOnly: true, timeoutMs: options.timeoutMs ?? 60_000 });
  return parseFacts(host.name, result.stdout);
}
