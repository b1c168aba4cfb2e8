// Gathers one node's facts in a single round trip: gather.sh goes over stdin to `sh -s`, the output is parsed.
import type { Host } from '../hosts/host.ts';
import { productFile } from '../ship/embedded.ts';
import { parseFacts } from './parse.ts';
import type { Facts } from './types.ts';

/** The read-only script, as shipped beside this file (or inside the single executable). */
export async function gatherScript(): Promise<string> {
  return productFile('src/facts/gather.sh');
}

/** Run gather.sh on `host` and parse its output. */
export async function gatherFacts(host: Host, options: { script?: string; timeoutMs?: number } = {}): Promise<Facts> {
  const script = options.script ?? (await gatherScript());
  const result = await host.exec(['sh', '-s'], { stdin: script, readOnly: true, timeoutMs: options.timeoutMs ?? 60_000 });
  return parseFacts(host.name, result.stdout);
}
