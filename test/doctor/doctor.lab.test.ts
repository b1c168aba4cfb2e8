// ferry doctor against real lab nodes over SSH (test/lab: systemd-nspawn Debian 12 nodes on a private bridge).
// One lab for all scenarios; each scenario breaks something the way an operator's node would be broken,
// runs `ferry doctor -i cluster.yaml --json` exactly as a user does, and puts the node back.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryIo } from '../../src/cli/io.ts';
import { run } from '../../src/cli/program.ts';
import type { DoctorReport } from '../../src/doctor/model.ts';
import { fetchDebs } from '../lab/debs.ts';
import { startLab, type Lab } from '../lab/lab.ts';

let lab: Lab;
let inventory: string;
const [CP, W1, W2] = ['cp1', 'w1', 'w2'];

async function doctor(...extra: string[]): Promise<{ code: number; report: DoctorReport; err: string }> {
  const io = memoryIo();
  const code = await run(['doctor', '-i', inventory, '--json', ...extra], { io, now: () => new Date(), cwd: process.cwd(), env: {} });
  return { code, report: JSON.parse(io.out()) as DoctorReport, err: io.err() };
}
const sh = (node: string, script: string) => lab.nodeExec(node, ['sh', '-c', script]);
const of = (r: DoctorReport, check: string, host?: string) => r.findings.filter((f) => f.check === check && (host === undefined || f.host === host));

// Warnings a healthy lab node has, each for a reason that belongs to the lab rather than to doctor.
const LAB_WARNINGS: Record<string, RegExp> = {
  'cgroup-version': /^cgroup v1: works with Kubernetes 1\.33/, // nspawn nodes run the host's v1 hybrid
  kernel: /^\/lib\/modules\/\S+ is missing: .*no module support/, // the lab kernel has CONFIG_MODULES unset
  'time-sync': /not NTP-synchronized/, // containers share the host clock and run no NTP client
  // nodes are network namespaces of one host kernel: the neighbour table's limits show only in the host's
  'neighbour-table': /not readable \(a network namespace other than the host's/,
};

beforeAll(async () => {
  // Debian's containerd .deb and its dependencies, carried in: the nodes have no network.
  lab = await startLab({ nodes: [CP, W1, W2], debs: await fetchDebs(['containerd']) });
  inventory = await lab.writeInventory({ roles: { [CP]: ['control-plane'], [W1]: ['worker'], [W2]: ['worker'] } });
  // What the ip-forward remedy says to do; a fresh Debian node has it off.
  for (const n of [CP, W1, W2]) await sh(n, 'sysctl -qw net.ipv4.ip_forward=1');
});

afterAll(async () => {
  await lab?.stop();
});

describe('ferry doctor on a healthy 3-node lab', () => {
  it('passes every check or warns for a stated lab reason, and recommends IPIP', async () => {
    const { code, report } = await doctor();
    expect(report.hosts.every((h) => h.reachable)).toBe(true);
    const unexpected = report.findings.filter((f) => f.status === 'fail' || (f.status === 'warn' && !LAB_WARNINGS[f.check]?.test(f.message)));
    expect(unexpected).toEqual([]);
    expect(code).toBe(0);
    expect(report.probes!.ipip.map((p) => p.outcome)).toEqual(Array(6).fill('ok'));
    expect(report.probes!.tcp.every((t) => t.outcome === 'ok')).toBe(true);
    expect(report.recommendation).toMatchObject({ encapsulation: 'ipip', iptablesBackend: 'NFT', cniMtu: 1480 });
    expect(of(report, 'clock-skew')[0]!.status).toBe('pass');
  });
});

describe('ferry doctor on broken lab nodes', () => {
  it('sees protocol 4 dropped by nftables on w2 in the directions towards w2, and recommends VXLAN', async () => {
    await sh(W2, "nft 'add table inet fdtest; add chain inet fdtest in { type filter hook input priority 0; }; add rule inet fdtest in meta l4proto 4 drop'");
    try {
      const out = join(mkdtempSync(join(tmpdir(), 'ferry-doctor-lab-')), 'report.json');
      const { report } = await doctor('--out', out);
      const dropped = report.probes!.ipip.filter((p) => p.outcome !== 'ok').map((p) => `${p.from}→${p.to}`);
      // report.html beside the JSON: the dropped direction's cell in the protocol 4 grid, an open one beside it.
      const html = readFileSync(join(out, '..', 'report.html'), 'utf8');
      const cell = (from: string, to: string) => new RegExp(`<td class="(\\w+)" data-from="${from}" data-to="${to}"`).exec(html.slice(html.indexOf('data-kind="ipip"')))?.[1];
      expect([cell(CP, W2), cell(W2, CP)]).toEqual(['dropped', 'ok']);
      expect(dropped).toEqual([`${CP}→${W2}`, `${W1}→${W2}`]);
      expect(report.recommendation.encapsulation).toBe('vxlan');
      expect(report.recommendation.encapsulationReason).toContain(`${CP}→${W2}`);
      const forced = await doctor('--only', 'ipip');
      expect(forced.report.findings.map((f) => [f.pair, f.status])).toEqual([[{ from: CP, to: W2 }, 'warn'], [{ from: W1, to: W2 }, 'warn']]);
    } finally {
      await sh(W2, 'nft delete table inet fdtest');
    }
  });

  it('flags iptables-legacy rules left beside nf_tables rules on w1', async () => {
    await sh(W1, 'iptables-nft -A INPUT -s 192.0.2.1 -j ACCEPT && iptables-legacy -A INPUT -s 192.0.2.2 -j ACCEPT');
    try {
      const { code, report } = await doctor('--only', 'iptables-backend');
      const [w1] = of(report, 'iptables-backend', W1);
      expect(w1!.message).toContain('rules in both backends: 1 in iptables-legacy, 1 in iptables-nft');
      expect(w1!.status).toBe('fail');
      expect(of(report, 'iptables-backend', CP)[0]!.status).toBe('pass');
      expect(code).toBe(4);
    } finally {
      await sh(W1, 'iptables-nft -D INPUT -s 192.0.2.1 -j ACCEPT; iptables-legacy -D INPUT -s 192.0.2.2 -j ACCEPT');
    }
  });

  it('flags port 6443 taken on the control plane, ip_forward off on w1 and a machine-id cloned onto w2', async () => {
    const cloned = (await lab.nodeExec(CP, ['cat', '/etc/machine-id'])).stdout.trim();
    const own = (await lab.nodeExec(W2, ['cat', '/etc/machine-id'])).stdout.trim();
    await sh(CP, "systemd-run --unit=fdtest-6443 python3 -c 'import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((\"0.0.0.0\",6443)); s.listen(); time.sleep(300)' && for i in $(seq 50); do ss -Htln | grep -q ':6443 ' && exit 0; sleep 0.1; done; exit 1");
    await sh(W1, 'sysctl -qw net.ipv4.ip_forward=0');
    await sh(W2, `echo ${cloned} > /etc/machine-id`);
    try {
      const { code, report } = await doctor();
      expect(of(report, 'local-ports', CP)).toEqual([expect.objectContaining({ status: 'fail', message: expect.stringMatching(/^port 6443 \(kube-apiserver\) is already in use/) })]);
      expect(report.probes!.tcp.filter((t) => t.to === CP && t.port === 6443).map((t) => t.outcome)).toEqual(['port-in-use', 'port-in-use']);
      expect(of(report, 'ip-forward', W1)).toEqual([expect.objectContaining({ status: 'fail', remedy: expect.stringContaining('net.ipv4.ip_forward=1') })]);
      expect(of(report, 'unique-identity').map((f) => [f.host, f.status])).toEqual([[CP, 'fail'], [W2, 'fail']]);
      expect(code).toBe(4);
    } finally {
      await sh(CP, 'systemctl stop fdtest-6443');
      await sh(W1, 'sysctl -qw net.ipv4.ip_forward=1');
      await sh(W2, `echo ${own} > /etc/machine-id`);
    }
  });

  it('fails containerd installed with SystemdCgroup = false while kubelet will use systemd, and passes once its fix is applied', async () => {
    await sh(W1, 'DEBIAN_FRONTEND=noninteractive dpkg -i /debs/*.deb >/dev/null');
    const { code, report } = await doctor('--only', 'cgroup-driver');
    const [finding] = of(report, 'cgroup-driver', W1);
    expect(finding).toMatchObject({ status: 'fail', message: expect.stringContaining('containerd runtime "runc" has SystemdCgroup = false but kubelet uses the systemd driver') });
    expect(finding!.remedy).toBe(
      'in /etc/containerd/config.toml set SystemdCgroup = true under [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options] (if the file lacks that table, start from `containerd config default > /etc/containerd/config.toml`), then: systemctl restart containerd',
    );
    expect(code).toBe(4);
    // The fix, exactly as printed.
    await sh(W1, "containerd config default > /etc/containerd/config.toml && sed -i 's/SystemdCgroup = false/SystemdCgroup = true/' /etc/containerd/config.toml && systemctl restart containerd");
    const fixed = await doctor('--only', 'cgroup-driver');
    expect(of(fixed.report, 'cgroup-driver', W1)).toEqual([expect.objectContaining({ status: 'pass' })]);
    expect(fixed.code).toBe(0);
  });

  it('refuses a node whose host key changed, naming it, and still checks the others', async () => {
    await sh(W1, 'mkdir -p /root/fdkeys && cp -p /etc/ssh/ssh_host_* /root/fdkeys/ && rm -f /etc/ssh/ssh_host_* && ssh-keygen -A -q && systemctl restart ssh');
    try {
      const { code, report } = await doctor('--only', 'swap');
      const w1 = report.hosts.find((h) => h.name === W1)!;
      expect(w1.reachable).toBe(false);
      expect(w1.error).toContain(W1);
      expect(w1.error).toMatch(/host key/i);
      expect(of(report, 'swap').map((f) => f.host)).toEqual([CP, W2]);
      expect(code).toBe(5);
      const again = await doctor('--only', 'swap', '--accept-new-host-keys');
      expect(again.report.hosts.find((h) => h.name === W1)!.reachable).toBe(false);
    } finally {
      await sh(W1, 'cp -p /root/fdkeys/* /etc/ssh/ && rm -rf /root/fdkeys && systemctl restart ssh');
    }
  });

  it('reports a node that is down as unreachable while the others are checked', async () => {
    await lab.stopNode(W2);
    const started = Date.now();
    const { code, report } = await doctor();
    expect(report.hosts.find((h) => h.name === W2)).toMatchObject({ reachable: false, error: expect.stringContaining(W2) });
    expect(report.hosts.filter((h) => h.reachable).map((h) => h.name)).toEqual([CP, W1]);
    expect(report.probes!.ipip.map((p) => `${p.from}→${p.to}:${p.outcome}`)).toEqual([`${CP}→${W1}:ok`, `${W1}→${CP}:ok`]);
    expect(code).toBe(5);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
