import { describe, expect, it } from 'vitest';
import { Inventory } from '../../src/config/inventory.ts';
import { UserError } from '../../src/errors.ts';
import { connectInventory, inventoryPath, parseBastion } from '../../src/hosts/connect.ts';
import { KnownHostsFile } from '../../src/hosts/host-key-policy.ts';
import { SshHost } from '../../src/hosts/ssh.ts';

describe('parseBastion', () => {
  it.each([
    ['admin@10.0.0.5:2222', { user: 'admin', host: '10.0.0.5', port: 2222 }],
    ['admin@jump.example', { user: 'admin', host: 'jump.example', port: 22 }],
    ['10.0.0.5', { host: '10.0.0.5', port: 22 }],
    ['ops@[fd00::5]:22', { user: 'ops', host: 'fd00::5', port: 22 }],
  ])('%s', (spec, parsed) => {
    expect(parseBastion(spec)).toEqual(parsed);
  });
  it.each(['admin@', 'a@b:99999', 'a b@c', ''])('rejects %j', (spec) => {
    expect(() => parseBastion(spec)).toThrow(UserError);
  });
});

describe('inventoryPath', () => {
  const ctx = { homeDir: '/home/ops', baseDir: '/srv/site' };
  it.each([
    ['~/.ssh/id_ed25519', '/home/ops/.ssh/id_ed25519'],
    ['keys/id', '/srv/site/keys/id'],
    ['/etc/ferry/known_hosts', '/etc/ferry/known_hosts'],
  ])('%s', (p, expected) => {
    expect(inventoryPath(p, ctx)).toBe(expected);
  });
});

describe('connectInventory', () => {
  it('makes one SSH host per inventory host sharing one known_hosts file, without connecting', async () => {
    const inv = Inventory.parse({
      apiVersion: 'ferry.dev/v1alpha1', kind: 'Cluster', name: 'site',
      ssh: { user: 'ops', knownHosts: 'kh', sudo: true, bastion: 'jump@10.9.9.9:22' },
      network: { controlPlaneEndpoint: '10.0.0.100:6443' },
      hosts: [
        { name: 'cp1', address: '10.0.0.11', roles: ['control-plane'] },
        { name: 'gpu1', address: '10.0.0.21', roles: ['gpu'], ssh: { user: 'root', port: 2222 } },
      ],
    });
    const set = connectInventory(inv, { homeDir: '/home/ops', baseDir: '/srv/site' });
    expect([...set.hosts.keys()]).toEqual(['cp1', 'gpu1']);
    expect([...set.hosts.values()].every((h) => h instanceof SshHost)).toBe(true);
    expect(set.knownHosts.path).toBe('/srv/site/kh');
    expect(set.knownHosts.policy).toBe('strict');
    await set.close();
  });
});

describe('SshHost without credentials', () => {
  it('says there is no way to log in before touching the network', async () => {
    // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never routed, and never reached because the check comes first.
    const h = new SshHost({ name: 'cp1', address: '192.0.2.10', knownHosts: new KnownHostsFile('/nonexistent/known_hosts') });
    const e = await h.exec(['true']).catch((x: Error) => x);
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).message).toBe('cp1: no way to log in: no SSH identity file and no ssh-agent');
  });
});
