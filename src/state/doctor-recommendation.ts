// Doctor's recommendation kept between runs in <state-dir>/doctor.json: the gate in preflight writes it, and a
// later `--only cni` run (which skips preflight) still makes the same encapsulation decision.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Recommendation } from '../checks/recommend.ts';
import { parseYaml } from '../config/parse.ts';

const Stored = z
  .object({
    encapsulation: z.enum(['ipip', 'vxlan']),
    encapsulationReason: z.string(),
    ipipProbe: z.enum(['passed', 'failed', 'unproven']),
    iptablesBackend: z.enum(['NFT', 'Legacy', 'Auto']),
    iptablesBackendReason: z.string(),
    cniMtu: z.number().int().optional(),
  })
  .strict();

const file = (stateDir: string) => join(stateDir, 'doctor.json');

/** The recommendation of the last gated run, or undefined when no run recorded one. */
export async function readDoctorRecommendation(stateDir: string): Promise<Recommendation | undefined> {
  const text = await readFile(file(stateDir), 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (text === undefined) return undefined;
  const stored = parseYaml(text, file(stateDir), Stored);
  return { ...stored, cniMtu: stored.cniMtu };
}

/** Record the recommendation atomically (write, then rename), so a crash never leaves half a file. */
export async function writeDoctorRecommendation(stateDir: string, rec: Recommendation): Promise<void> {
  const tmp = `${file(stateDir)}.tmp`;
  await writeFile(tmp, `${JSON.stringify(rec, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file(stateDir));
}
