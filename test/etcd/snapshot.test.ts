// The etcd snapshot's command plan (etcdctl, the node's or from the etcd image, over TLS with kubeadm's etcd
// certificates: save, status, sha256, fetch, remove) against a scripted host; the real thing against real etcd is test/etcd/snapshot.lab.test.ts.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ETCDCTL_PROBE, etcdctlArgs, parseEtcdctlProbe, parseSnapshotStatus, snapshotName, snapshotPlan, takeSnapshot } from '../../src/etcd/snapshot.ts';
import { UnexpectedOutputError } from '../../src/errors.ts';
import { FakeHost } from '../support/fake-host.ts';

const NOW = new Date('2026-12-07T05:00:00.123Z');
// `etcdctl snapshot status -w json` in the shape etcd 3.4.23 (Debian 12's etcd-client) prints it; snapshot.lab.test.ts
// checks that shape against the real etcdctl on a real snapshot.
const STATUS = '{"hash":3523612367,"revision":12,"totalKey":11,"totalSize":20480}';

describe('snapshot plan', () => {
  it('names the file by node and second', () => {
    expect(snapshotName('cp1', NOW)).toBe('etcd-cp1-20261207T050000Z.db');
  });

  it('talks TLS to the local member with the etcd CA and kubeadm\'s etcd client certificate', () => {
    expect(etcdctlArgs()).toEqual(['--endpoints=https://127.0.0.1:2379', '--cacert=/etc/kubernetes/pki/etcd/ca.crt', '--cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt', '--key=/etc/kubernetes/pki/etcd/healthcheck-client.key']);
  });

  it('is, in order: directory, member health, save, status, sha256; then removal', () => {
    const plan = snapshotPlan('cp1', NOW);
    expect(plan.steps.map((s) => s.command.shell)).toEqual([
      'mkdir -p -m 0700 /var/lib/ferry/etcd-snapshots',
      'ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt --key=/etc/kubernetes/pki/etcd/healthcheck-client.key endpoint health',
      'ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt --key=/etc/kubernetes/pki/etcd/healthcheck-client.key snapshot save /var/lib/ferry/etcd-snapshots/etcd-cp1-20261207T050000Z.db',
      'ETCDCTL_API=3 etcdctl snapshot status /var/lib/ferry/etcd-snapshots/etcd-cp1-20261207T050000Z.db -w json',
      'sha256sum /var/lib/ferry/etcd-snapshots/etcd-cp1-20261207T050000Z.db',
    ]);
    expect(plan.cleanup.shell).toBe('rm -f /var/lib/ferry/etcd-snapshots/etcd-cp1-20261207T050000Z.db');
  });

  it('runs etcdctl from the etcd image in a throwaway container where the node has none', () => {
    const plan = snapshotPlan('cp1', NOW, { kind: 'image', ref: 'registry.ferry.internal:5000/registry.k8s.io/etcd:3.5.21-0' });
    expect(plan.steps[2]!.command.shell).toBe(
      "ctr -n k8s.io run --rm --net-host --env ETCDCTL_API=3 --mount type=bind,src=/etc/kubernetes/pki/etcd,dst=/etc/kubernetes/pki/etcd,options=rbind:ro " +
        "--mount type=bind,src=/var/lib/ferry/etcd-snapshots,dst=/var/lib/ferry/etcd-snapshots,options=rbind:rw registry.ferry.internal:5000/registry.k8s.io/etcd:3.5.21-0 " +
        'ferry-etcdctl-save-etcd-cp1-20261207T050000Z etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt --key=/etc/kubernetes/pki/etcd/healthcheck-client.key snapshot save /var/lib/ferry/etcd-snapshots/etcd-cp1-20261207T050000Z.db',
    );
  });

  it.each([
    ['host', { kind: 'host' }],
    ['image registry.ferry.internal:5000/registry.k8s.io/etcd:3.5.21-0\n', { kind: 'image', ref: 'registry.ferry.internal:5000/registry.k8s.io/etcd:3.5.21-0' }],
    ['image ', undefined],
    ['', undefined],
  ])('reads the etcdctl probe %j', (stdout, want) => {
    expect(parseEtcdctlProbe(stdout)).toEqual(want);
  });

  it.each([
    ['etcdctl 3.4 output', STATUS, { hash: 3523612367, revision: 12, totalKey: 11, totalSize: 20480 }],
    ['a deprecation warning before the JSON (etcdctl 3.5)', `Deprecated: Use \`etcdutl snapshot status\` instead.\n\n${STATUS}`, { hash: 3523612367, revision: 12, totalKey: 11, totalSize: 20480 }],
  ])('reads snapshot status from %s', (_name, text, want) => {
    expect(parseSnapshotStatus(text)).toEqual(want);
  });

  it('refuses a status without numbers', () => {
    expect(() => parseSnapshotStatus('Error: snapshot file has no data')).toThrow(UnexpectedOutputError);
  });
});

describe('takeSnapshot on a scripted host', () => {
  const data = 'etcd snapshot bytes';
  const sha = createHash('sha256').update(data).digest('hex');
  const path = '/var/lib/ferry/etcd-snapshots/etcd-cp1-20261207T050000Z.db';
  const host = (sum = sha, health = 0) =>
    new FakeHost('cp1', [
      { command: ETCDCTL_PROBE.shell, stdout: 'host\n', readOnly: true },
      { command: 'mkdir -p -m 0700 /var/lib/ferry/etcd-snapshots', readOnly: false },
      { command: /endpoint health$/, exitCode: health, readOnly: true, stderr: health ? 'https://127.0.0.1:2379 is unhealthy: failed to commit proposal: context deadline exceeded' : '' },
      { command: /snapshot save /, stdout: `Snapshot saved at ${path}\n`, readOnly: false },
      { command: /snapshot status /, stdout: `${STATUS}\n`, readOnly: true },
      { command: `sha256sum ${path}`, stdout: `${sum}  ${path}\n`, readOnly: true },
      { command: `rm -f ${path}`, readOnly: false },
    ], { [path]: data });

  it('fetches the file, checks its sha256 against the node\'s, and removes the node\'s copy', async () => {
    const h = host();
    const got = await takeSnapshot(h, NOW);
    expect(got.data.toString()).toBe(data);
    expect(got.result).toEqual({ host: 'cp1', sha256: sha, bytes: data.length, status: { hash: 3523612367, revision: 12, totalKey: 11, totalSize: 20480 } });
    expect(got.etcdctl).toEqual({ kind: 'host' });
    expect(h.unmet()).toEqual([]);
    expect(h.mutating().at(-1)).toBe(`rm -f ${path}`);
  });

  it('refuses a copy whose sha256 differs from the node\'s, and still removes the node\'s copy', async () => {
    const h = host('0'.repeat(64));
    await expect(takeSnapshot(h, NOW)).rejects.toThrow(/the copy was damaged/);
    expect(h.mutating().at(-1)).toBe(`rm -f ${path}`);
  });

  it('stops before saving when the member is unhealthy', async () => {
    const h = host(sha, 1);
    await expect(takeSnapshot(h, NOW)).rejects.toThrow(/unhealthy/);
    expect(h.mutating()).toEqual(['mkdir -p -m 0700 /var/lib/ferry/etcd-snapshots', `rm -f ${path}`]);
  });
});
