// A lab test (run serially with the others): leftover cleaning must not race another lab's teardown.
// A lab left up by `ferry demo --keep` survives its owner: later labs' leftover cleaning skips it, `ferry demo
// --down` finds it and tears it down. Real state files under /var/tmp/ferry-lab, for a lab with no nodes.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isAlive } from '../../src/lab/file-lock.ts';
import { STATE_ROOT, cleanLeftoversSync, keptLabsSync, teardownLabSync, type LabState } from '../../src/lab/teardown.ts';

// A PID that is not running: the owner of a kept lab has exited (cleanLeftoversSync asks isAlive about it).
const DEAD_OWNER = 2 ** 22 + 1;
const labs: LabState[] = [];

function writeLab(kept: boolean): LabState {
  const prefix = `fl${randomBytes(3).toString('hex')}`;
  const state: LabState = { prefix, ownerPid: DEAD_OWNER, bridge: `${prefix}br`, stateDir: join(STATE_ROOT, prefix), nodes: [], ...(kept ? { kept: true } : {}) };
  mkdirSync(state.stateDir, { recursive: true });
  writeFileSync(join(state.stateDir, 'state.json'), JSON.stringify(state));
  labs.push(state);
  return state;
}

afterAll(() => {
  for (const s of labs) teardownLabSync(s);
});

describe('a kept lab', () => {
  it('is skipped by leftover cleaning while an abandoned one is removed, and --down finds it', () => {
    const kept = writeLab(true);
    const abandoned = writeLab(false);
    const cleaned = cleanLeftoversSync(isAlive);
    expect(cleaned).toContain(abandoned.prefix);
    expect(cleaned).not.toContain(kept.prefix);
    expect(existsSync(kept.stateDir)).toBe(true);
    expect(existsSync(abandoned.stateDir)).toBe(false);
    expect(keptLabsSync().map((s) => s.prefix)).toContain(kept.prefix);
    teardownLabSync(kept);
    expect(existsSync(kept.stateDir)).toBe(false);
    expect(keptLabsSync().map((s) => s.prefix)).not.toContain(kept.prefix);
  });
});
