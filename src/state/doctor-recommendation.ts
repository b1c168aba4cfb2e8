// Doctor's recommendation kept between runs in the state directory's doctor.json (StateLayout): the gate in preflight writes it, and a
// later `--only cni` run (which skips preflight) still makes the same encapsulation decision.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Recommendation } from '../checks/recommend.ts';
import { parseYaml } from '../config/parse.ts';
import type { StateLayout } from './layout.ts';

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


/** The recommendation of the last gated run, or undefined when no run recorded one. */
export async function readDoctorRecommendation(layout: StateLayout): Promise<Recommendation | undefined> {
  const text = await readFile(layout.doctorRecommendation, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (text === undefined) return undefined;
  const stored = parseYaml(text, layout.doctorRecommendation, Stored);
  return { ...stored, cniMtu: stored.cniMtu };
}

/** Record the recommendation atomically (write, then rename), so a crash never leaves half a file. */
export async function writeDoctorRecommendation(layout: StateLayout, rec: Recommendation): Promise<void> {
  const tmp = `${layout.doctorRecommendation}.tmp`;
  await writeFile(tmp, `${JSON.stringify(rec, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, layout.doctorRecommendation);
}
