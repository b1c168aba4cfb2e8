import { describe, expect, it } from 'vitest';
import { loadModulesArgv, renderModules } from '../../src/render/modules.ts';
import { UserError } from '../../src/errors.ts';

describe('renderModules', () => {
  it.each([
    { name: 'kubernetes', extra: [] as string[] },
    { name: 'with-ipip', extra: ['ipip', 'overlay'] },
  ])('$name: renders the expected file', async ({ name, extra }) => {
    await expect(renderModules(extra).content).toMatchFileSnapshot(`__snapshots__/modules-${name}.conf`);
  });

  it('lists each module once, Kubernetes\' first', () => {
    expect(renderModules(['ipip', 'overlay']).content.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual(['overlay', 'br_netfilter', 'ipip']);
    expect(loadModulesArgv()).toEqual([['modprobe', 'overlay'], ['modprobe', 'br_netfilter']]);
  });

  it('refuses a name that could smuggle a second command', () => {
    expect(() => renderModules(['ipip; reboot'])).toThrow(UserError);
  });
});
