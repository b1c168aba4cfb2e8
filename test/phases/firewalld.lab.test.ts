// The firewalld phase with real firewalld (Debian 12's 1.3.3, nftables backend) on three lab nodes: cp keeps
// Debian's default zone (public: ssh and dhcpv6-client), w1 too, and w2's default zone is `drop` (with ssh added to it,
// as a site that drops everything keeps its own way in). Doctor's pairwise probes fail through firewalld before
// install and pass after it; the API and registry ports answer between nodes through firewalld while a host that
// is not a node stays out; a second install changes nothing; reset gives /etc/firewalld back byte for byte.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryIo } from '../../src/cli/io.ts';
import { run } from '../../src/cli/program.ts';
import type { DoctorReport } from '../../src/doctor/model.ts';
import { runPlaybook, type PlaybookRunRequest } from '../../src/install/run.ts';
import { FIREWALLD_POLICY_PATH, firewalldVerify } from '../../src/render/firewalld.ts';
import type { RunEvent } from '../../src/phases/runner.ts';
import { fetchDebs } from '../lab/debs.ts';
import { startLab, type Lab } from '../lab/lab.ts';

const [CP, W1, W2] = ['fwcp', 'fwa', 'fwb'];
const NODES = [CP, W1, W2];
let lab: Lab;
let inventory: string;
const before = new Map<string, string>();

const sh = (node: string, script: string, allowFailure = false) => lab.nodeExec(node, ['sh', '-c', script], { allowFailure });

/** Every path under /etc/firewalld with its content hash: what reset must give back. */
const firewalldTree = (node: string) => sh(node, "find /etc/firewalld \\( -type f -exec sha256sum {} + \\) -o \\( -type d -printf '%p/\\n' \\) | sort").then((r) => r.stdout);

async function doctor(): Promise<DoctorReport> {
  const io = memoryIo();
  await run(['doctor', '-i', inventory, '--json'], { io, now: () => new Date(), cwd: process.cwd(), env: {} });
  return JSON.parse(io.out()) as DoctorReport;
}

/** One phase of the shipped playbook, through the same orchestrator as `ferry install` / `ferry reset`; the outcome per host. */
async function playbook(command: PlaybookRunRequest['command'], phase: string): Promise<Record<string, string>> {
  const outcomes: Record<string, string> = {};
  await runPlaybook({ command, inventory, only: [phase] }, {
    cwd: process.cwd(), homeDir: process.env.HOME ?? '/root', now: () => new Date(),
    progress: () => ({
      onEvent: (e: RunEvent) => void (e.type === 'host-end' && (outcomes[e.host] = e.outcome)),
      finish: async () => {},
    }),
  });
  return outcomes;
}

/** A TCP connect from `node` to address:port within one second: 'ok', or why not. */
async function connect(node: string, address: string, port: number): Promise<string> {
  const py = `import socket\ns=socket.socket(); s.settimeout(1)\ntry:\n s.connect((${JSON.stringify(address)}, ${port})); print('ok')\nexcept Exception as e:\n print(type(e).__name__)`;
  return (await lab.nodeExec(node, ['python3', '-c', py])).stdout.trim();
}

beforeAll(async () => {
  lab = await startLab({ nodes: NODES, debs: await fetchDebs(['firewalld']) });
  inventory = await lab.writeInventory({
    roles: { [CP]: ['control-plane'], [W1]: ['worker'], [W2]: ['worker'] },
    extra: { network: { controlPlaneEndpoint: 'localhost:6443', encapsulation: 'vxlan', loadBalancer: 'node-local' } },
  });
  await Promise.all(NODES.map((n) => sh(n, 'sysctl -qw net.ipv4.ip_forward=1 && DEBIAN_FRONTEND=noninteractive dpkg -i /debs/*.deb >/dev/null 2>&1 && systemctl is-active firewalld')));
  await sh(W2, 'firewall-cmd -q --permanent --zone=drop --add-service=ssh && firewall-cmd -q --set-default-zone=drop && firewall-cmd -q --reload');
  for (const n of NODES) before.set(n, await firewalldTree(n));
});

afterAll(async () => {
  await lab?.stop();
});

const of = (r: DoctorReport, check: string) => r.findings.filter((f) => f.check === check);

describe('firewalld on lab nodes', () => {
  it('doctor sees the cluster turned away by firewalld before install, naming the ports per node', async () => {
    const report = await doctor();
    expect(of(report, 'firewall').map((f) => [f.host, f.status])).toEqual([[CP, 'warn'], [W1, 'warn'], [W2, 'warn']]);
    expect(of(report, 'firewall').find((f) => f.host === W2)!.message).toMatch(/default zone drop\) and turns away .*4789\/udp \(VXLAN\) from fwcp, fwa/);
    expect(of(report, 'firewall').find((f) => f.host === CP)!.remedy).toMatch(/^ferry install opens them through firewalld/);
    // public rejects with admin-prohibited, drop drops: either way no connection.
    expect(report.probes!.tcp.filter((t) => t.to === CP && t.port === 6443).map((t) => t.outcome === 'ok')).toEqual([false, false]);
    // The UDP and protocol-4 probes are not asserted: each pair sends both ways at once, so conntrack takes the
    // second direction for a reply and firewalld's `ct state established` accepts it (see docs/lab.md).
  });

  it('install opens exactly what the cluster needs through firewalld, and a second install changes nothing', async () => {
    expect(await playbook('install', 'firewalld')).toEqual({ [CP]: 'ran', [W1]: 'ran', [W2]: 'ran' });
    const policies = await sh(W2, 'firewall-cmd --get-policies; firewall-cmd --get-default-zone; cd /etc/firewalld && ls ipsets/* policies/*');
    expect(policies.stdout.split(/\s+/).filter(Boolean)).toEqual(['allow-host-ipv6', 'ferry', 'drop', 'ipsets/ferry-nodes.xml', 'policies/ferry.xml']);
    expect(await playbook('install', 'firewalld')).toEqual({ [CP]: 'already-done', [W1]: 'already-done', [W2]: 'already-done' });
  });

  it('doctor passes the firewall check and the pairwise probes with firewalld running', async () => {
    const report = await doctor();
    expect(of(report, 'firewall').map((f) => [f.host, f.status])).toEqual([[CP, 'pass'], [W1, 'pass'], [W2, 'pass']]);
    expect(of(report, 'tcp-reach').map((f) => f.status)).toEqual(['pass']);
    expect(of(report, 'vxlan-udp').map((f) => f.status)).toEqual(['pass']);
  });

  it('lets the API and registry ports through between nodes, and keeps a host that is not a node out', async () => {
    await sh(CP, 'for p in 5000 10250; do systemd-run -q --unit=fwtest-$p python3 -m http.server --bind 0.0.0.0 $p; done; for i in $(seq 50); do ss -Htln | grep -q ":10250 " && exit 0; sleep 0.1; done; exit 1');
    await sh(W2, 'systemd-run -q --unit=fwtest-10250 python3 -m http.server --bind 0.0.0.0 10250; for i in $(seq 50); do ss -Htln | grep -q ":10250 " && exit 0; sleep 0.1; done; exit 1');
    try {
      const cp = lab.nodes[0]!.address;
      expect([await connect(W1, cp, 5000), await connect(W2, cp, 5000), await connect(W2, cp, 10250)]).toEqual(['ok', 'ok', 'ok']);
      expect(await connect(CP, lab.nodes[2]!.address, 10250)).toBe('ok');
      // The lab host is the admin host, not a node: kubelet's port on the drop-zone node stays shut to it.
      const { execa } = await import('execa');
      const probe = await execa('python3', ['-c', `import socket\ns=socket.socket(); s.settimeout(1)\ntry:\n s.connect((${JSON.stringify(lab.nodes[2]!.address)}, 10250)); print('ok')\nexcept Exception as e:\n print(type(e).__name__)`]);
      expect(probe.stdout.trim()).toMatch(/timeout|TimeoutError/);
    } finally {
      await sh(CP, 'systemctl stop fwtest-5000 fwtest-10250', true);
      await sh(W2, 'systemctl stop fwtest-10250', true);
    }
  });

  it("refuses a policy file firewalld cannot read before it is placed (firewall-offline-cmd on a copy of /etc/firewalld)", async () => {
    await sh(W1, 'mkdir -p /var/lib/ferry/staging && printf "<policy>\\n<policy" > /var/lib/ferry/staging/ferry.xml');
    const argv = firewalldVerify(FIREWALLD_POLICY_PATH).map((w) => (w === '{staged}' ? '/var/lib/ferry/staging/ferry.xml' : w));
    const r = await lab.nodeExec(W1, argv, { allowFailure: true });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/Configuration error: PARSE_ERROR|INVALID_POLICY/);
    await sh(W1, 'rm -f /var/lib/ferry/staging/ferry.xml');
  });

  it('reset removes exactly what install added: /etc/firewalld as it was, and the running firewall without ferry', async () => {
    expect(await playbook('reset', 'reset-firewalld')).toEqual({ [CP]: 'ran', [W1]: 'ran', [W2]: 'ran' });
    for (const n of NODES) expect(await firewalldTree(n)).toBe(before.get(n));
    expect((await sh(W2, 'firewall-cmd --get-policies; firewall-cmd --get-ipsets')).stdout.split(/\s+/).filter(Boolean)).toEqual(['allow-host-ipv6']);
    expect(await playbook('reset', 'reset-firewalld')).toEqual({ [CP]: 'already-done', [W1]: 'already-done', [W2]: 'already-done' });
  });
});
