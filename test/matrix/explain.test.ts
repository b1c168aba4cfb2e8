import { beforeAll, describe, expect, it } from 'vitest';
import type { Catalog } from '../../src/matrix/catalog.ts';
import { explainResolution, renderTable } from '../../src/matrix/explain.ts';
import { realMatrix, resolveRaw } from './fixture.ts';

let catalog: Catalog;
beforeAll(async () => {
  catalog = (await realMatrix()).catalog;
});

describe('renderTable', () => {
  it('pads every column but the last to its widest cell', () => {
    expect(renderTable([['A', 'BB', 'C'], ['aaa', 'b', 'long last cell']])).toBe('A    BB  C\naaa  b   long last cell');
  });
});

describe('explainResolution', () => {
  it('shows one row per decision with its rules, the host changes with their commands, and the warnings', () => {
    const res = resolveRaw(catalog, { os: 'alma-8.10', gpu: 'l40s', k8s: '1.35' });
    if (!res.ok) throw new Error('expected a stack');
    const text = explainResolution(res);
    expect(text.split('\n')[0]).toBe('ferry resolve: alma-8.10 · l40s · containerd · amd64');
    for (const d of res.decisions) expect(text).toMatch(new RegExp(`^${d.component}\\s+${d.version.replaceAll('.', '\\.')}\\s+.*\\(${d.rules[0]}`, 'm'));
    expect(text).toMatch(/Host changes the stack requires:\n {2}- boot every node with cgroup v2.*\n {6}grubby --update-kernel=ALL --args=systemd\.unified_cgroup_hierarchy=1 && reboot/);
    expect(text).toMatch(/Warnings:\n(?: {2}- .*\n)+$/);
    // Sources stay in --json and the lock; the table only marks the row.
    expect(text).not.toMatch(/\[unverified: http/);
    expect(text).toMatch(/\[unverified\] \(/);
  });
});
