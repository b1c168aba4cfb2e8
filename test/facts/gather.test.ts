import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { gatherFacts } from '../../src/facts/gather.ts';
import { LocalHost } from '../../src/hosts/local.ts';

const read = (path: string) => readFileSync(path, 'utf8').trim();

describe('gather.sh on this machine, compared with what Node reads itself', () => {
  it('reports hostname, machine-id, sysctls, links and cgroup layout as they are', async () => {
    const f = await gatherFacts(new LocalHost('self'));
    expect(f.identity.hostname).toBe(hostname());
    // A fresh machine may have an empty or no /etc/machine-id: doctor then knows none.
    expect(f.identity.machineId).toBe((existsSync('/etc/machine-id') ? read('/etc/machine-id') : '') || undefined);
    for (const key of ['net.ipv4.ip_forward', 'kernel.keys.root_maxkeys', 'kernel.keys.root_maxbytes'])
      expect(f.sysctl[key], key).toBe(read(`/proc/sys/${key.replaceAll('.', '/')}`));
    for (const name of readdirSync('/sys/class/net'))
      expect(f.links.find((l) => l.name === name), name).toEqual({ name, mtu: Number(read(`/sys/class/net/${name}/mtu`)), mac: read(`/sys/class/net/${name}/address`), state: read(`/sys/class/net/${name}/operstate`) });
    expect(f.cpus).toBeGreaterThan(0);
    expect(f.memory.totalKb).toBe(Number(/MemTotal:\s+(\d+)/.exec(read('/proc/meminfo'))![1]));
    expect(f.disks.map((d) => d.path)).toEqual(['/', '/var', '/var/lib/containerd', '/var/lib/kubelet', '/var/lib/etcd', '/var/lib/containers']);
  });
});
