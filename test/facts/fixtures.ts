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

/** gather.sh output with just these sections (name → what the command printed), each ending with exit status 0. */
export function gatherOutput(sections: Record<string, string>): string {
  return Object.entries(sections).map(([name, text]) => `\n@@ferry ${name}\n${text}\n@@ferry-rc ${name} 0\n`).join('');
}

/** The gather.sh output of a node as install's phase tests need it: os-release, kernel and machine, its address on eth0. */
export function nodeGatherOutput(osRelease: string, address: string, options: { kernel?: string; machine?: string } = {}): string {
  return gatherOutput({
    uname: `Linux ${options.kernel ?? '4.18.0-372.19.1.el8_6.x86_64'} ${options.machine ?? 'x86_64'}`,
    'os-release': osRelease,
    addresses: `2: eth0    inet ${address}/24 brd 10.20.0.255 scope global eth0`,
  });
}
