// The rules every phase keeps (issue #16), checked on the sources: phases read through observe and change things only
// through steps the runner applies, so under src/phases/ nothing touches the admin host's files directly, makes its
// own LocalHost, reads the clock, or marks a read by hand; and every phase is of the observe → plan shape.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPlanPhase } from '../../src/phases/phase.ts';
import { phaseRegistry } from '../../src/phases/registry.ts';

const root = new URL('../../src/phases/', import.meta.url).pathname;
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('src/phases rules', () => {
  const rules: [string, RegExp][] = [
    ['imports node:fs', /from 'node:fs(\/promises)?'/],
    ['makes its own LocalHost', /new LocalHost\(/],
    ['reads the clock', /Date\.now\(\)/],
    ['marks a read by hand', /readOnly: true/],
  ];
  // apply.ts is the engine itself: the reads it makes while applying (the package list before and after an install)
  // must run for real in a dry run, so it alone marks them.
  it.each(rules)('no phase source %s', (_what, pattern) => {
    const offenders = sources(root).filter((p) => pattern.test(readFileSync(p, 'utf8'))).map((p) => relative(root, p)).filter((p) => p !== 'apply.ts' || !pattern.source.includes('readOnly'));
    expect(offenders).toEqual([]);
  });

  it('every registered phase is of the observe → plan shape and declares its undo', () => {
    const legacy = [...phaseRegistry().values()].filter((p) => !isPlanPhase(p)).map((p) => p.id);
    expect(legacy).toEqual([]);
    const noUndo = [...phaseRegistry().values()].filter((p) => p.undo === undefined).map((p) => p.id);
    expect(noUndo).toEqual([]);
  });
});
