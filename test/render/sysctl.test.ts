import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { KUBERNETES_SYSCTLS, renderSysctl, sysctlProcPath } from '../../src/render/sysctl.ts';
import { UserError } from '../../src/errors.ts';
import { put, tempDir, tool } from './tools.ts';

describe('renderSysctl', () => {
  const tmp = tempDir('sysctl');
  afterAll(() => tmp.cleanup());

  it('renders the expected file', async () => {
    await expect(renderSysctl({ 'net.ipv4.conf.all.rp_filter': 1 }).content).toMatchFileSnapshot('__snapshots__/sysctl.conf');
  });

  it.each(Object.keys(KUBERNETES_SYSCTLS))('%s is a key this Linux kernel knows', (key) => {
    expect(existsSync(sysctlProcPath(key)), sysctlProcPath(key)).toBe(true);
  });

  it('sysctl -p applies the network keys (in a private network namespace, so the host is untouched)', async () => {
    const netOnly = renderSysctl().content.split('\n').filter((l) => l.startsWith('#') || l.startsWith('net.')).join('\n');
    const path = put(tmp.dir, 'net.conf', netOnly);
    const r = await tool(['unshare', '--net', 'sh', '-ec', 'sysctl -p "$1" >/dev/null; sysctl -n net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables', 'sh', path]);
    expect(r.exitCode, r.output).toBe(0);
    expect(r.output.trim().split('\n')).toEqual(['1', '1']);
  });

  it('lets an extra value override a default', () => {
    expect(renderSysctl({ 'fs.inotify.max_user_watches': 1048576 }).content).toMatch(/^fs\.inotify\.max_user_watches = 1048576$/m);
  });

  it.each([
    ['a key with a space', { 'net.ipv4 ip_forward': 1 }],
    ['a value with a newline', { 'net.ipv4.ip_forward': '1\nkernel.x = 2' }],
  ])('refuses %s', (_n, extra) => {
    expect(() => renderSysctl(extra)).toThrow(UserError);
  });
});
