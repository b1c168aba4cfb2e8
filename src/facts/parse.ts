// Turns the whole output of gather.sh into Facts: the one entry point the doctor uses.
import type { Facts } from './types.ts';
import { splitSections } from './sections.ts';
import { parseSystem } from './parse-system.ts';
import { parseNetwork } from './parse-network.ts';
import { parseRuntime } from './parse-runtime.ts';
import { parseGpu } from './parse-gpu.ts';
import { parseInstalledPackages } from './parse-packages.ts';

/** Parse gather.sh output from host `host` into typed facts. */
export function parseFacts(host: string, output: string): Facts {
  const sections = splitSections(output);
  const packages = parseInstalledPackages(sections);
  return { host, ...parseSystem(sections), ...parseNetwork(sections), ...parseRuntime(sections), gpu: parseGpu(sections), ...(packages ? { packages } : {}) };
}
