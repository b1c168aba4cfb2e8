// Gathers one node's facts in a single round trip: gather.sh goes over stdin to `sh -s`, the output is parsed.
import { readFile } from 'node:fs/promises';
import type { Host } from '../hosts/host.ts';
import { parseFacts } from './parse.ts';
import type { Facts } from './types.ts';

/** The read-only script, as shipped beside this file. */
export async function gatherScript(): Promise<string> {
  return readFile(new URL('./gather.sh', import.meta.url), 'utf8');
}

/** Run gather.sh on `host` and parse its output. */
export async function gatherFacts(host: Host, options: { script?: string; timeoutMs?: number } = {}): Promise<Facts> {
  const script = options.script ?? (await gatherScript());
  const result = await host.exec(['sh', '-s'], { stdin: script, readOnly: true, timeoutMs: options.timeoutMs ?? 60_000 });
  return parseFacts(host.name, result.stdout);
}
