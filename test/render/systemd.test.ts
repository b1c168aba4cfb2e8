import { afterAll, describe, expect, it } from 'vitest';
import { renderDropIn, renderUnit, renderUnitText, type UnitSections } from '../../src/render/systemd.ts';
import { put, tempDir, tool } from './tools.ts';
import { verifyArgv } from '../../src/render/file.ts';

describe('systemd units', () => {
  const tmp = tempDir('systemd');
  afterAll(() => tmp.cleanup());

  it.each<{ name: string; sections: UnitSections; comment?: string; text: string }>([
    {
      name: 'repeated directives and booleans',
      sections: { Service: { ExecStartPre: ['/bin/true', '/bin/echo ready'], NoNewPrivileges: true, PrivateTmp: false, RestartSec: 2 } },
      text: '[Service]\nExecStartPre=/bin/true\nExecStartPre=/bin/echo ready\nNoNewPrivileges=yes\nPrivateTmp=no\nRestartSec=2\n',
    },
    {
      name: 'an empty value resets a list, undefined is left out',
      sections: { Service: { ExecStart: ['', '/usr/bin/containerd'], Environment: undefined } },
      text: '[Service]\nExecStart=\nExecStart=/usr/bin/containerd\n',
    },
    {
      name: 'sections in order, with a comment',
      sections: { Unit: { Description: 'x' }, Install: { WantedBy: 'multi-user.target' } },
      comment: 'Written by ferry.',
      text: '# Written by ferry.\n\n[Unit]\nDescription=x\n\n[Install]\nWantedBy=multi-user.target\n',
    },
  ])('$name', ({ sections, comment, text }) => {
    expect(renderUnitText(sections, comment)).toBe(text);
  });

  it('refuses a value that spans lines (it would inject a directive)', () => {
    expect(() => renderUnitText({ Service: { Environment: 'A=1\nExecStartPre=/bin/sh' } })).toThrow(TypeError);
  });

  it('places units and drop-ins where systemd reads them', () => {
    expect(renderUnit('x.service', {}).path).toBe('/etc/systemd/system/x.service');
    expect(renderDropIn('containerd.service', '10-ferry', {}).path).toBe('/etc/systemd/system/containerd.service.d/10-ferry.conf');
  });

  it('systemd-analyze verify accepts a rendered unit and flags an unknown directive', async () => {
    const good = renderUnit('ferry-t.service', { Unit: { Description: 't' }, Service: { ExecStart: '/bin/true', Restart: 'on-failure' }, Install: { WantedBy: 'multi-user.target' } });
    const ok = await tool(verifyArgv(good, put(tmp.dir, 'ferry-t.service', good.content))!);
    expect(ok.exitCode, ok.output).toBe(0);
    expect(ok.output).not.toMatch(/Unknown/);
    const bad = renderUnit('ferry-b.service', { Service: { ExecStart: '/bin/true', Restrat: 'always' } });
    const r = await tool(verifyArgv(bad, put(tmp.dir, 'ferry-b.service', bad.content))!);
    expect(r.output).toMatch(/Unknown key 'Restrat'/);
  });
});
