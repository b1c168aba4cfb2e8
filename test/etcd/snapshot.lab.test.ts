// ferry etcd snapshot against REAL etcd (Debian 12's etcd-server and etcd-client 3.4, carried into the lab as .debs)
// serving TLS with a kubeadm-shaped PKI under /etc/kubernetes/pki/etcd. cp1 has no etcd (ferry moves on to the next
// control plane, naming why); cp2 runs the member. The snapshot is fetched with its sha256, the node's copy is gone,
// every command is in the audit log, and the file restores: `etcdctl snapshot restore` and a second etcd on it
// serve the key written before the snapshot (the restore procedure of docs/day-two.md, on one member).
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryIo } from '../../src/cli/io.ts';
import { run } from '../../src/cli/program.ts';
import { fetchDebs } from '../lab/debs.ts';
import { startLab, type Lab } from '../lab/lab.ts';

let lab: Lab;
let inventory: string;
let out: string;
const PKI = '/etc/kubernetes/pki/etcd';
const sh = (node: string, script: string) => lab.nodeExec(node, ['sh', '-c', script]);
const TLS = `--endpoints=https://127.0.0.1:2379 --cacert=${PKI}/ca.crt --cert=${PKI}/healthcheck-client.crt --key=${PKI}/healthcheck-client.key`;

/** kubeadm's etcd PKI (ca, server, peer, healthcheck-client), made with openssl on the node. */
function pkiScript(name: string, address: string): string {
  const leaf = (file: string, cn: string, usage: string, sans: string) =>
    `openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ${file}.key -out ${file}.crt -x509 -CA ca.crt -CAkey ca.key -days 365 -subj /CN=${cn} ` +
    `-addext basicConstraints=critical,CA:FALSE -addext keyUsage=critical,digitalSignature,keyEncipherment -addext extendedKeyUsage=${usage}${sans ? ` -addext subjectAltName=${sans}` : ''} 2>/dev/null`;
  const sans = `DNS:${name},DNS:localhost,IP:${address},IP:127.0.0.1,IP:::1`;
  return [
    `mkdir -p ${PKI} && cd ${PKI}`,
    'openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj /CN=etcd-ca -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign,digitalSignature 2>/dev/null',
    leaf('server', name, 'serverAuth,clientAuth', sans),
    leaf('peer', name, 'serverAuth,clientAuth', sans),
    leaf('healthcheck-client', 'kube-etcd-healthcheck-client', 'clientAuth', ''),
    'chgrp etcd server.key peer.key && chmod 0640 server.key peer.key',
  ].join(' && ');
}

beforeAll(async () => {
  lab = await startLab({ nodes: ['cp1', 'cp2'], debs: await fetchDebs(['etcd-server', 'etcd-client']) });
  inventory = await lab.writeInventory({ roles: { cp1: ['control-plane'], cp2: ['control-plane'] }, extra: { kubernetes: { allowEvenControlPlanes: true } } });
  out = await mkdtemp(join(tmpdir(), 'ferry-etcd-snapshot-'));
  const cp2 = lab.nodes.find((n) => n.name === 'cp2')!;
  const a = cp2.address;
  await sh('cp2', 'DEBIAN_FRONTEND=noninteractive dpkg -i /debs/*.deb >/dev/null && systemctl stop etcd && rm -rf /var/lib/etcd/default');
  await sh('cp2', pkiScript('cp2', a));
  // etcd as kubeadm's static pod runs it: TLS for clients and peers, client certificates required.
  await sh('cp2', `cat > /etc/default/etcd <<'EOF'
ETCD_NAME=cp2
ETCD_DATA_DIR=/var/lib/etcd/default
ETCD_LISTEN_CLIENT_URLS=https://127.0.0.1:2379,https://${a}:2379
ETCD_ADVERTISE_CLIENT_URLS=https://${a}:2379
ETCD_LISTEN_PEER_URLS=https://${a}:2380
ETCD_INITIAL_ADVERTISE_PEER_URLS=https://${a}:2380
ETCD_INITIAL_CLUSTER=cp2=https://${a}:2380
ETCD_INITIAL_CLUSTER_STATE=new
ETCD_CERT_FILE=${PKI}/server.crt
ETCD_KEY_FILE=${PKI}/server.key
ETCD_TRUSTED_CA_FILE=${PKI}/ca.crt
ETCD_CLIENT_CERT_AUTH=true
ETCD_PEER_CERT_FILE=${PKI}/peer.crt
ETCD_PEER_KEY_FILE=${PKI}/peer.key
ETCD_PEER_TRUSTED_CA_FILE=${PKI}/ca.crt
ETCD_PEER_CLIENT_CERT_AUTH=true
EOF
systemctl start etcd && for i in $(seq 50); do ETCDCTL_API=3 etcdctl ${TLS} endpoint health >/dev/null 2>&1 && break; sleep 0.2; done
ETCDCTL_API=3 etcdctl ${TLS} put /registry/ferry/day-two "written before the snapshot" >/dev/null`);
}, 240_000);

afterAll(async () => {
  await lab?.stop();
  if (out) await rm(out, { recursive: true, force: true });
});

describe('ferry etcd snapshot (real etcd 3.4 with TLS)', () => {
  let result: { host: string; file: string; sha256: string; bytes: number; status: { revision: number; totalKey: number }; skipped: string[] };

  it('takes the snapshot on the first control plane that can, and says why it passed over the others', async () => {
    const io = memoryIo();
    const started = Date.now();
    const code = await run(['etcd', 'snapshot', '-i', inventory, '--out', out, '--json'], { io, now: () => new Date(), cwd: process.cwd(), env: {} });
    expect(code, io.err()).toBe(0);
    result = JSON.parse(io.out());
    expect(result.host).toBe('cp2');
    expect(result.skipped).toEqual([expect.stringMatching(/^cp1: on cp1: `command -v etcdctl` exited 127\b/)]);
    expect(result.status.totalKey).toBeGreaterThanOrEqual(1);
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 60_000);

  it('writes the file and its sha256 in sha256sum format, and removes the node\'s copy', async () => {
    const data = await readFile(result.file);
    expect(data.length).toBe(result.bytes);
    const sum = createHash('sha256').update(data).digest('hex');
    expect(sum).toBe(result.sha256);
    const name = result.file.split('/').at(-1)!;
    expect(await readFile(`${result.file}.sha256`, 'utf8')).toBe(`${sum}  ${name}\n`);
    expect((await readdir(out)).sort()).toEqual([name, `${name}.sha256`]);
    expect((await sh('cp2', 'ls -A /var/lib/ferry/etcd-snapshots')).stdout).toBe('');
  });

  it('audits every command, each with its host and exit code', async () => {
    const audit = (await readFile(join(dirname(inventory), '.ferry', lab.prefix, 'audit.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    const cp2 = audit.filter((r) => r.host === 'cp2').map((r) => `${r.exitCode} ${r.command.split(' ').slice(0, 4).join(' ')}`);
    expect(audit.every((r) => r.run === 'etcd snapshot' && r.phase === 'etcd-snapshot')).toBe(true);
    expect(audit.find((r) => r.host === 'cp1')).toMatchObject({ command: 'command -v etcdctl', exitCode: 127 });
    expect(cp2).toEqual([
      '0 command -v etcdctl',
      '0 ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt',
      '0 mkdir -p -m 0700',
      '0 ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt',
      '0 ETCDCTL_API=3 etcdctl snapshot status',
      '0 sha256sum /var/lib/ferry/etcd-snapshots/' + result.file.split('/').at(-1)!,
      '0 rm -f /var/lib/ferry/etcd-snapshots/' + result.file.split('/').at(-1)!,
    ]);
  });

  it('restores: etcdctl snapshot restore and an etcd on the restored data serve the key written before', async () => {
    const name = result.file.split('/').at(-1)!;
    await lab.nodeExec('cp2', ['sh', '-c', `mkdir -p /root/restore && base64 -d > /root/restore/${name}`], { input: (await readFile(result.file)).toString('base64') });
    expect((await sh('cp2', `sha256sum /root/restore/${name}`)).stdout.split(' ')[0]).toBe(result.sha256);
    await sh('cp2', `cd /root/restore && ETCDCTL_API=3 etcdctl snapshot restore ${name} --name restored --data-dir /root/restore/data --initial-cluster restored=http://127.0.0.1:22380 --initial-advertise-peer-urls http://127.0.0.1:22380 >/dev/null 2>&1`);
    await sh('cp2', "systemd-run --unit=ferry-restored-etcd etcd --name restored --data-dir /root/restore/data --listen-client-urls http://127.0.0.1:22379 --advertise-client-urls http://127.0.0.1:22379 --listen-peer-urls http://127.0.0.1:22380 >/dev/null 2>&1");
    const got = await sh('cp2', 'for i in $(seq 50); do v=$(ETCDCTL_API=3 etcdctl --endpoints=http://127.0.0.1:22379 get /registry/ferry/day-two --print-value-only 2>/dev/null) && [ -n "$v" ] && echo "$v" && exit 0; sleep 0.2; done; exit 1');
    expect(got.stdout.trim()).toBe('written before the snapshot');
    // The shape test/etcd/snapshot.test.ts parses, as this etcdctl prints it.
    const status = await sh('cp2', `ETCDCTL_API=3 etcdctl snapshot status /root/restore/${name} -w json`);
    expect(status.stdout.trim()).toMatch(/^\{"hash":\d+,"revision":\d+,"totalKey":\d+,"totalSize":\d+\}$/);
    await sh('cp2', 'systemctl stop ferry-restored-etcd');
  }, 60_000);

  it('fails with exit 7 naming each control plane when none can take a snapshot', async () => {
    await sh('cp2', 'systemctl stop etcd');
    const io = memoryIo();
    const code = await run(['etcd', 'snapshot', '-i', inventory, '--out', out], { io, now: () => new Date(), cwd: process.cwd(), env: {} });
    expect(code).toBe(7);
    expect(io.err()).toMatch(/no control plane could take an etcd snapshot:\n {2}cp1: .*etcdctl.*\n {2}cp2: .*endpoint health/);
    await sh('cp2', 'systemctl start etcd');
  }, 60_000);
});
