import { StateLayout } from '../../src/state/layout.ts';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Recommendation } from '../../src/checks/recommend.ts';
import { InputError } from '../../src/errors.ts';
import { readDoctorRecommendation, writeDoctorRecommendation } from '../../src/state/doctor-recommendation.ts';

let dir: string;
beforeEach(async () => void (dir = await mkdtemp(join(tmpdir(), 'ferry-doctor-state-'))));
afterEach(async () => rm(dir, { recursive: true, force: true }));

describe('doctor.json in the state directory', () => {
  it('is absent before any gated run', async () => {
    expect(await readDoctorRecommendation(new StateLayout(dir))).toBeUndefined();
  });
  it('gives back what the gate stored, with and without an MTU', async () => {
    const rec: Recommendation = { encapsulation: 'ipip', encapsulationReason: 'protocol 4 passed on all 2 directions', ipipProbe: 'passed', iptablesBackend: 'NFT', iptablesBackendReason: 'every node uses iptables-nft', cniMtu: 1480 };
    await writeDoctorRecommendation(new StateLayout(dir), rec);
    expect(await readDoctorRecommendation(new StateLayout(dir))).toEqual(rec);
    await writeDoctorRecommendation(new StateLayout(dir), { ...rec, cniMtu: undefined });
    expect((await readDoctorRecommendation(new StateLayout(dir)))?.cniMtu).toBeUndefined();
  });
  it('names the file and field of a damaged record', async () => {
    await writeFile(join(dir, 'doctor.json'), '{"encapsulation": "geneve"}');
    await expect(readDoctorRecommendation(new StateLayout(dir))).rejects.toThrow(InputError);
    await expect(readDoctorRecommendation(new StateLayout(dir))).rejects.toThrow(/doctor\.json.*encapsulation/s);
  });
});
