// ferry etcd snapshot against REAL etcd (Debian 12's etcd-server and etcd-client 3.4, carried into the lab as .debs)
// serving TLS with a kubeadm-shaped PKI under /etc/kubernetes/pki/etcd, on two control planes. cp1 is shaped like a
// kubeadm node: no etcdctl on the host, an etcd image named in /etc/kubernetes/manifests/etcd.yaml and present in
// containerd (here: the lab's tiny image with Debian's etcdctl in it), so ferry runs etcdctl with `ctr run`. cp2 has
// etcdctl on the host. The snapshot is fetched with its sha256, the node's copy is gone, every command is in the audit
// log, and the file restores: `etcdctl snapshot restore` and a second etcd on it serve the key written before the
// snapshot (the restore procedure of docs/day-two.md, on one member). With cp1's etcd stopped ferry moves on to cp2,
// and with both stopped it fails naming each.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryIo } from '../../src/cli/io.ts';
import { run } from '../../src/cli/program.ts';
import { makeTinyImage } from '../../src/lab/oci-image.ts';
import { ensureBaseRootfs } from '../../src/lab/rootfs.ts';
import { fetchDebs } from '../lab/debs.ts';
import { startLab, type Lab } from '../lab/lab.ts';

let lab: Lab;
let inventory: string;
let out: string;
const PKI = '/etc/kubernetes/pki/etcd';
const ETCD_IMAGE = 'registry.ferry.internal:5000/registry.k8s.io/etcd:3.4.23-0';
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

/** Real etcd on `node` as kubeadm's static pod runs it: TLS for clients and peers, client certificates required. */
async function startEtcd(node: string) {
  const a = lab.nodes.find((n) => n.name === node)!.address;
  await sh(node, pkiScript(node, a));
  const env = [
    `ETCD_NAME=${node}`, 'ETCD_DATA_DIR=/var/lib/etcd/default',
    `ETCD_LISTEN_CLIENT_URLS=https://127.0.0.1:2379,https://${a}:2379`, `ETCD_ADVERTISE_CLIENT_URLS=https://${a}:2379`,
    `ETCD_LISTEN_PEER_URLS=https://${a}:2380`, `ETCD_INITIAL_ADVERTISE_PEER_URLS=https://${a}:2380`,
    `ETCD_INITIAL_CLUSTER=${node}=https://${a}:2380`, 'ETCD_INITIAL_CLUSTER_STATE=new',
    `ETCD_CERT_FILE=${PKI}/server.crt`, `ETCD_KEY_FILE=${PKI}/server.key`, `ETCD_TRUSTED_CA_FILE=${PKI}/ca.crt`, 'ETCD_CLIENT_CERT_AUTH=true',
    `ETCD_PEER_CERT_FILE=${PKI}/peer.crt`, `ETCD_PEER_KEY_FILE=${PKI}/peer.key`, `ETCD_PEER_TRUSTED_CA_FILE=${PKI}/ca.crt`, 'ETCD_PEER_CLIENT_CERT_AUTH=true',
  ];
  await lab.nodeExec(node, ['sh', '-c', 'systemctl stop etcd; rm -rf /var/lib/etcd/default; cat > /etc/default/etcd && systemctl start etcd'], { input: `${env.join('\n')}\n` });
  await sh(node, 'for i in $(seq 100); do ss -Htln | grep -q "127.0.0.1:2379 " && exit 0; sleep 0.1; done; exit 1');
}

/** etcdctl against `node`'s member: the host's where it has one, else from the image, as ferry runs it. */
const etcdctl = (node: string, args: string) =>
  sh(node, `if command -v etcdctl >/dev/null; then ETCDCTL_API=3 etcdctl ${TLS} ${args}; else ctr -n k8s.io run --rm --net-host --env ETCDCTL_API=3 --mount type=bind,src=${PKI},dst=${PKI},options=rbind:ro ${ETCD_IMAGE} test-etcdctl etcdctl ${TLS} ${args}; fi`);

beforeAll(async () => {
  const debs = await fetchDebs(['etcd-server', 'etcd-client', 'containerd']);
  lab = await startLab({ nodes: ['cp1', 'cp2'], debs });
  inventory = await lab.writeInventory({ roles: { cp1: ['control-plane'], cp2: ['control-plane'] }, extra: { kubernetes: { allowEvenControlPlanes: true } } });
  out = await mkdtemp(join(tmpdir(), 'ferry-etcd-snapshot-'));
  // cp1 as kubeadm leaves a node: etcd, but no etcdctl on the host; the etcd image (with etcdctl) in containerd.
  await sh('cp1', 'DEBIAN_FRONTEND=noninteractive dpkg -i $(ls /debs/*.deb | grep -v /etcd-client_) >/dev/null && (systemctl is-active -q containerd || systemctl start containerd)');
  const work = await mkdtemp(join(tmpdir(), 'ferry-etcdctl-'));
  await execa('dpkg', ['-x', join(debs, (await readdir(debs)).find((f) => f.startsWith('etcd-client_'))!), work]);
  const cp1 = lab.nodes.find((n) => n.name === 'cp1')!;
  await makeTinyImage((await ensureBaseRootfs()).dir, join(cp1.root, 'root'), ETCD_IMAGE, [{ from: join(work, 'usr/bin/etcdctl'), to: 'usr/local/bin/etcdctl' }]);
  await rm(work, { recursive: true, force: true });
  await sh('cp1', 'ctr -n k8s.io images import /root/tiny-image.tar >/dev/null && mkdir -p /etc/kubernetes/manifests');
  await lab.nodeExec('cp1', ['sh', '-c', 'cat > /etc/kubernetes/manifests/etcd.yaml'], { input: `apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: etcd\n    image: ${ETCD_IMAGE}\n` });
  await sh('cp2', 'DEBIAN_FRONTEND=noninteractive dpkg -i $(ls /debs/*.deb | grep -v containerd) >/dev/null');
  for (const n of ['cp1', 'cp2']) await startEtcd(n);
  const put = await etcdctl('cp1', 'put /registry/ferry/day-two "written before the snapshot"');
  expect(put.stdout.trim()).toBe('OK');
}, 300_000);

afterAll(async () => {
  await lab?.stop();
  if (out) await rm(out, { recursive: true, force: true });
});

describe('ferry etcd snapshot (real etcd 3.4 with TLS)', () => {
  let result: { host: string; etcdctl: string; file: string; sha256: string; bytes: number; status: { revision: number; totalKey: number }; skipped: string[] };

  it('takes the snapshot on the first control plane, running etcdctl from the etcd image where the node has none', async () => {
    const io = memoryIo();
    const started = Date.now();
    const code = await run(['etcd', 'snapshot', '-i', inventory, '--out', out, '--json'], { io, now: () => new Date(), cwd: process.cwd(), env: {} });
    expect(code, io.err()).toBe(0);
    result = JSON.parse(io.out());
    expect(result.host).toBe('cp1');
    expect(result.etcdctl).toBe(`image ${ETCD_IMAGE}`);
    expect(result.skipped).toEqual([]);
    expect(result.status.totalKey).toBeGreaterThanOrEqual(1);
    expect(Date.now() - started).toBeLessThan(60_000);
  }, 90_000);

  it('writes the file and its sha256 in sha256sum format, and leaves nothing on the node', async () => {
    const data = await readFile(result.file);
    expect(data.length).toBe(result.bytes);
    const sum = createHash('sha256').update(data).digest('hex');
    expect(sum).toBe(result.sha256);
    const name = result.file.split('/').at(-1)!;
    expect(await readFile(`${result.file}.sha256`, 'utf8')).toBe(`${sum}  ${name}\n`);
    expect((await readdir(out)).sort()).toEqual([name, `${name}.sha256`]);
    expect((await sh('cp1', 'ls -A /var/lib/ferry/etcd-snapshots')).stdout).toBe('');
    expect((await sh('cp1', 'ctr -n k8s.io containers ls -q')).stdout).toBe('');
  });

  it('audits every command, each with its host and exit code', async () => {
    const audit = (await readFile(join(dirname(inventory), '.ferry', lab.prefix, 'audit.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    const name = result.file.split('/').at(-1)!;
    expect(audit.every((r) => r.run === 'etcd snapshot' && r.phase === 'etcd-snapshot' && r.host === 'cp1')).toBe(true);
    expect(audit.map((r) => `${r.exitCode} ${r.command.split(' ').slice(0, 3).join(' ')}`)).toEqual([
      '0 if command -v',
      '0 mkdir -p -m',
      '0 ctr -n k8s.io',
      '0 ctr -n k8s.io',
      '0 ctr -n k8s.io',
      `0 sha256sum /var/lib/ferry/etcd-snapshots/${name}`,
      `0 rm -f /var/lib/ferry/etcd-snapshots/${name}`,
    ]);
    expect(audit[3].command).toContain(`${ETCD_IMAGE} ferry-etcdctl-save-`);
  });

  it('restores: etcdctl snapshot restore and an etcd on the restored data serve the key written before', async () => {
    const name = result.file.split('/').at(-1)!;
    await lab.nodeExec('cp2', ['sh', '-c', `mkdir -p /root/restore && base64 -d > /root/restore/${name}`], { input: (await readFile(result.file)).toString('base64') });
    expect((await sh('cp2', `sha256sum /root/restore/${name}`)).stdout.split(' ')[0]).toBe(result.sha256);
    await sh('cp2', `cd /root/restore && ETCDCTL_API=3 etcdctl snapshot restore ${name} --name restored --data-dir /root/restore/data --initial-cluster restored=http://127.0.0.1:22380 --initial-advertise-peer-urls http://127.0.0.1:22380 >/dev/null 2>&1`);
    await sh('cp2', 'systemd-run --unit=ferry-restored-etcd etcd --name restored --data-dir /root/restore/data --listen-client-urls http://127.0.0.1:22379 --advertise-client-urls http://127.0.0.1:22379 --listen-peer-urls http://127.0.0.1:22380 >/dev/null 2>&1');
    const got = await sh('cp2', 'for i in $(seq 50); do v=$(ETCDCTL_API=3 etcdctl --endpoints=http://127.0.0.1:22379 get /registry/ferry/day-two --print-value-only 2>/dev/null) && [ -n "$v" ] && echo "$v" && exit 0; sleep 0.2; done; exit 1');
    expect(got.stdout.trim()).toBe('written before the snapshot');
    // The shape test/etcd/snapshot.test.ts parses, as this etcdctl prints it.
    const status = await sh('cp2', `ETCDCTL_API=3 etcdctl snapshot status /root/restore/${name} -w json`);
    expect(status.stdout.trim()).toMatch(/^\{"hash":\d+,"revision":\d+,"totalKey":\d+,"totalSize":\d+\}$/);
    await sh('cp2', 'systemctl stop ferry-restored-etcd');
  }, 60_000);

  it("moves on to cp2 (its own etcdctl) when cp1's member is down, naming why", async () => {
    await sh('cp1', 'systemctl stop etcd');
    const io = memoryIo();
    const code = await run(['etcd', 'snapshot', '-i', inventory, '--out', out, '--json'], { io, now: () => new Date(Date.now() + 1000), cwd: process.cwd(), env: {} });
    expect(code, io.err()).toBe(0);
    const second = JSON.parse(io.out());
    expect(second).toMatchObject({ host: 'cp2', etcdctl: 'node' });
    expect(second.skipped).toEqual([expect.stringMatching(/^cp1: on cp1: .*endpoint health.* exited 1/)]);
  }, 90_000);

  it('fails with exit 7 naming each control plane when none can take a snapshot', async () => {
    await sh('cp2', 'systemctl stop etcd');
    const io = memoryIo();
    const code = await run(['etcd', 'snapshot', '-i', inventory, '--out', out], { io, now: () => new Date(), cwd: process.cwd(), env: {} });
    expect(code).toBe(7);
    expect(io.err()).toMatch(/no control plane could take an etcd snapshot:\n {2}cp1: .*endpoint health.*\n {2}cp2: .*endpoint health/);
  }, 90_000);
});
