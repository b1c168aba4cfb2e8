import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { gatherFacts } from '../../src/facts/gather.ts';
import { LocalHost } from '../../src/hosts/local.ts';

const read = (path: string) => readFileSync(path, 'utf8').trim();

describe('gather.sh on this machine, compared with what Node reads itself', () => {
  it('reports hostname, machine-id, sysctls, links and cgroup layout as they are', async () => {
    // Lab tests running beside this one add and change links (a bridge takes a new MAC as ports join), so only
    // links that read the same before and after the gathering are compared; the machine's own always do.
    const links = () =>
      new Map(readdirSync('/sys/class/net').map((name) => {
        const at = (f: string) => { try { return read(`/sys/class/net/${name}/${f}`); } catch { return ''; } };
        return [name, { name, mtu: Number(at('mtu')), mac: at('address'), state: at('operstate') }];
      }));
    const before = links();
    const f = await gatherFacts(new LocalHost('self'));
    const after = links();
    const stable = [...before.values()].filter((l) => JSON.stringify(after.get(l.name)) === JSON.stringify(l));
    expect(stable.map((l) => l.name)).toContain('lo');
    expect(f.identity.hostname).toBe(hostname());
    // A fresh machine may have an empty or no /etc/machine-id: doctor then knows none.
    expect(f.identity.machineId).toBe((existsSync('/etc/machine-id') ? read('/etc/machine-id') : '') || undefined);
    for (const key of ['net.ipv4.ip_forward', 'kernel.keys.root_maxkeys', 'kernel.keys.root_maxbytes'])
      expect(f.sysctl[key], key).toBe(read(`/proc/sys/${key.replaceAll('.', '/')}`));
    for (const link of stable) expect(f.links.find((l) => l.name === link.name), link.name).toEqual(link);
    expect(f.cpus).toBeGreaterThan(0);
    expect(f.memory.totalKb).toBe(Number(/MemTotal:\s+(\d+)/.exec(read('/proc/meminfo'))![1]));
    expect(f.disks.map((d) => d.path)).toEqual(['/', '/var', '/var/lib/containerd', '/var/lib/kubelet', '/var/lib/etcd', '/var/lib/containers']);
  });
});
