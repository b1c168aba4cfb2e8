import { afterAll, describe, expect, it } from 'vitest';
import { renderNftables, renderNftablesUnit, type NftablesInput } from '../../src/render/nftables.ts';
import { verifyArgv } from '../../src/render/file.ts';
import { shellJoin } from '../../src/hosts/shell.ts';
import { UserError } from '../../src/errors.ts';
import { controlPlanes } from './fixtures.ts';
import { put, tempDir, tool } from './tools.ts';
import { vethPairScript } from './netns.ts';

const nodes = [...controlPlanes.map((c) => c.address), '10.20.0.21', '10.20.0.22'];
const cps = controlPlanes.map((c) => c.address);
const base = { nodes, controlPlanes: cps, balancers: cps, podCidr: '10.244.0.0/16' };
const rows: { name: string; input: NftablesInput }[] = [
  { name: 'control-plane-calico-ipip', input: { ...base, roles: ['control-plane', 'registry', 'lb'], cni: 'calico', encapsulation: { kind: 'ipip' }, balancerPort: 8443, registryPort: 5000 } },
  { name: 'gpu-worker-calico-vxlan', input: { ...base, roles: ['worker', 'gpu'], cni: 'calico', encapsulation: { kind: 'vxlan', port: 4789 }, registryPort: 5000 } },
  { name: 'worker-cilium-node-local', input: { ...base, balancers: [], roles: ['worker'], cni: 'cilium', encapsulation: { kind: 'vxlan', port: 8472 } } },
  { name: 'registry-with-admin-host', input: { ...base, roles: ['control-plane', 'registry'], cni: 'calico', encapsulation: { kind: 'vxlan', port: 4789 }, registryPort: 5000, adminAddress: '10.20.0.1' } },
  { name: 'lb-only-flannel', input: { ...base, roles: ['lb'], cni: 'flannel', encapsulation: { kind: 'vxlan', port: 8472 }, balancerPort: 6443 } },
];

/** Runs a shell script in a private network namespace (nothing on the host is touched). */
const inNetns = (script: string, ...args: string[]) => tool(['unshare', '--net', 'sh', '-ec', script, 'sh', ...args], 20_000);

describe('renderNftables', () => {
  const tmp = tempDir('nft');
  afterAll(() => tmp.cleanup());

  it.each(rows)('$name: renders the expected file', async ({ name, input }) => {
    await expect(renderNftables(input).content).toMatchFileSnapshot(`__snapshots__/nftables-${name}.nft`);
  });

  it.each(rows)('$name: nft -c accepts it', async ({ name, input }) => {
    const file = renderNftables(input);
    const r = await inNetns(shellJoin(verifyArgv(file, put(tmp.dir, `${name}.nft`, file.content))!));
    expect(r.exitCode, r.output).toBe(0);
  });

  it('nft -c rejects a broken ruleset, so the check can fail', async () => {
    const broken = renderNftables(rows[0]!.input).content.replace('meta l4proto 4 drop', 'meta l4proto 4 dorp');
    expect((await inNetns('nft -c -f "$1"', put(tmp.dir, 'broken.nft', broken))).exitCode).not.toBe(0);
  });

  it('never flushes: applied twice beside another table, both tables stay and ferry\'s appears once', async () => {
    const path = put(tmp.dir, 'apply.nft', renderNftables(rows[0]!.input).content);
    const r = await inNetns(
      'nft add table inet other; nft add chain inet other keep "{ type filter hook input priority 0; }"; nft -f "$1"; nft -f "$1"; nft list tables; nft list chain inet other keep',
      path,
    );
    expect(r.exitCode, r.output).toBe(0);
    expect(r.output.match(/^table inet (\w+)$/gm)).toEqual(['table inet other', 'table inet ferry']);
    expect(renderNftables(rows[0]!.input).content).not.toMatch(/flush ruleset|flush table|delete table inet (?!ferry)/);
  });

  it('opens the encapsulation only to cluster nodes: protocol 4 for IPIP, the UDP port for VXLAN', () => {
    expect(renderNftables(rows[0]!.input).content).toMatch(/meta l4proto 4 ip saddr @cluster_nodes accept\n\s+meta l4proto 4 drop/);
    expect(renderNftables(rows[1]!.input).content).toMatch(/udp dport 4789 ip saddr @cluster_nodes accept\n\s+udp dport 4789 drop/);
    expect(renderNftables(rows[1]!.input).content).not.toMatch(/l4proto 4/);
    expect(renderNftables(rows[1]!.input).content).not.toMatch(/2379/);
  });

  it('drops kubelet traffic from outside the cluster and lets nodes in (two namespaces, one veth)', async () => {
    // The node namespace (10.251.7.1) runs the rules and a TCP listener on 10250; a peer namespace on the other
    // end of a veth holds a node address (10.251.7.2) and an outsider address (10.251.7.9) and connects from each.
    // Both namespaces die with their processes, which the script ends by PID.
    const rules = put(tmp.dir, 'kubelet.nft', renderNftables({ ...rows[1]!.input, nodes: ['10.251.7.1', '10.251.7.2'], controlPlanes: [] }).content);
    const probe = `
      const net = require('node:net');
      const [host, from] = process.argv.slice(1);
      const s = net.connect({ host, port: 10250, localAddress: from, timeout: 700 });
      s.on('connect', () => { console.log(from + ' connected'); process.exit(0); });
      s.on('timeout', () => { console.log(from + ' timed out'); process.exit(0); });
      s.on('error', (e) => { console.log(from + ' ' + e.code); process.exit(0); });`;
    const script = `${vethPairScript({ ifname: 'fnode', addresses: ['10.251.7.1/24'] }, { ifname: 'fpeer', addresses: ['10.251.7.2/24', '10.251.7.9/24'] }, 20)}
      nft -f "$1"
      ${process.execPath} -e "require('node:net').createServer().listen(10250, '10.251.7.1')" & server=$!
      sleep 0.5
      in_peer ${process.execPath} -e "$2" 10.251.7.1 10.251.7.2 || true
      in_peer ${process.execPath} -e "$2" 10.251.7.1 10.251.7.9 || true
      kill $server $PEER`;
    const r = await inNetns(script, rules, probe);
    expect(r.output).toMatch(/10\.251\.7\.2 connected/);
    expect(r.output).toMatch(/10\.251\.7\.9 timed out/);
  });

  it('loads the table at boot and after nftables.service, and removes only ferry\'s table on stop', async () => {
    const unit = renderNftablesUnit();
    await expect(unit.content).toMatchFileSnapshot('__snapshots__/ferry-firewall.service');
    expect(unit.content).toMatch(/^ExecStart=\/usr\/sbin\/nft -f \/etc\/nftables\.d\/ferry\.nft$/m);
    expect(unit.content).toMatch(/^ExecStop=\/usr\/sbin\/nft delete table inet ferry$/m);
    const r = await tool(verifyArgv(unit, put(tmp.dir, 'ferry-firewall.service', unit.content))!);
    expect(r.exitCode, r.output).toBe(0);
    expect(r.output).not.toMatch(/Unknown/);
  });

  it.each([
    ['a host name as node', { nodes: ['cp-1'] }],
    ['a control plane that is not a node', { controlPlanes: ['10.9.9.9'] }],
    ['a pod CIDR without prefix', { podCidr: '10.244.0.0' }],
    ['a VXLAN port of 0', { encapsulation: { kind: 'vxlan' as const, port: 0 } }],
  ])('refuses %s', (_n, change) => {
    expect(() => renderNftables({ ...rows[0]!.input, ...change })).toThrow(UserError);
  });
});
