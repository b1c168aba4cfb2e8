// The rules every phase keeps (issue #16), checked on the sources: phases read through observe and change things only
// through steps the runner applies, so under src/phases/ nothing touches the admin host's files directly, makes its
// own LocalHost, reads the clock or the bundle's image layout from disk, marks a read by hand, or applies steps itself (the runner does, apply.ts is the
// applier); and every phase has its observe, plan and undo.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { phaseRegistry } from '../../src/phases/registry.ts';

const root = new URL('../../src/phases/', import.meta.url).pathname;
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('src/phases rules', () => {
  // The sources a rule lets through: apply.ts is the engine itself: the reads it makes while applying (the package
  // list before and after an install) must run for real in a dry run, so it alone marks them; and only the runner
  // calls the applier (a phase's afterAll hands its steps to the runner's).
  const rules: [string, RegExp, string[]][] = [
    ['imports node:fs', /from 'node:fs(\/promises)?'/, []],
    ['makes its own LocalHost', /new LocalHost\(/, []],
    ['reads the clock', /Date\.now\(\)/, []],
    ['marks a read by hand', /readOnly: true/, ['apply.ts']],
    ['applies steps itself', /applySteps\(/, ['apply.ts', 'runner.ts']],
    // The bundle's OCI layout is read through the admin Host (readLayoutPlan's second argument), not from disk.
    ['reads the bundle image layout from disk', /readLayoutPlan\([^,()]*(\([^()]*\))?[^,()]*\)/, []],
  ];
  it.each(rules)('no phase source %s', (_what, pattern, allowed) => {
    const offenders = sources(root).filter((p) => pattern.test(readFileSync(p, 'utf8'))).map((p) => relative(root, p)).filter((p) => !allowed.includes(p));
    expect(offenders).toEqual([]);
  });

  it('every registered phase has its observe and plan and declares its undo', () => {
    const phases = [...phaseRegistry().values()];
    const incomplete = phases.filter((p) => typeof p.observe !== 'function' || typeof p.plan !== 'function').map((p) => p.id);
    expect(incomplete).toEqual([]);
    const noUndo = phases.filter((p) => p.undo === undefined).map((p) => p.id);
    expect(noUndo).toEqual([]);
  });
});
