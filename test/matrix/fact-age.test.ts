import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/config/lock.ts';
import { ageInDays, staleFactWarnings } from '../../src/matrix/fact-age.ts';

const decision = (component: string, factsRead?: string): Decision => ({ component, version: '1', rules: [], why: '', ...(factsRead ? { factsRead } : {}) });
const decisions = [decision('os', '2026-11-23'), decision('kubernetes', '2026-12-07'), decision('cgroup')];

describe('staleFactWarnings', () => {
  const rows: { name: string; now: string; maxAge: number; warning: RegExp | null }[] = [
    { name: 'facts read today', now: '2026-12-07', maxAge: 90, warning: null },
    { name: 'exactly the allowed age', now: '2027-02-21', maxAge: 90, warning: null },
    { name: 'one day past the allowed age names only the old component', now: '2027-02-22', maxAge: 90, warning: /older than 90 days: os \(read 2026-11-23, 91 days ago\); run `ferry matrix refresh`/ },
    { name: 'half a year later names both dated components', now: '2027-06-07', maxAge: 90, warning: /os \(read 2026-11-23, 196 days ago\), kubernetes \(read 2026-12-07, 182 days ago\)/ },
    { name: 'a zero age flags anything read before today', now: '2026-12-07', maxAge: 0, warning: /older than 0 days: os \(read 2026-11-23, 14 days ago\);.*\[facts-older-than-max-age\]$/ },
  ];
  it.each(rows)('$name', ({ now, maxAge, warning }) => {
    const out = staleFactWarnings(decisions, new Date(`${now}T12:00:00Z`), maxAge);
    if (warning) {
      expect(out).toHaveLength(1);
      expect(out[0]).toMatch(warning);
    } else expect(out).toEqual([]);
  });

  it('counts whole days from the read date to the day of now', () => {
    expect(ageInDays('2026-11-23', new Date('2026-12-07T23:59:00Z'))).toBe(14);
  });
});
