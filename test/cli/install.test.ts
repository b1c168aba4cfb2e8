// ferry install / reset before any node is reached: inputs checked with file, line and field; --only/--skip and
// playbook ids checked against the phases; the install lock refuses a second run. Nothing here opens SSH.
import { copyFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { acquireInstallLock } from '../../src/state/install-lock.ts';
import { runFerry } from './support/run-ferry.ts';

let dir: string;
const inventory = {
  apiVersion: 'ferry.dev/v1alpha1', kind: 'Cluster', name: 'unit',
  network: { controlPlaneEndpoint: '192.0.2.100:8443' },
  hosts: [{ name: 'cp1', address: '192.0.2.11', roles: ['control-plane'] }],
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-install-cli-'));
  await writeFile(join(dir, 'cluster.yaml'), stringify(inventory));
  await writeFile(join(dir, 'bad.yaml'), stringify({ ...inventory, hosts: [{ name: 'CP_1', address: '192.0.2.11', roles: ['control-plane'] }] }));
  // The bundle's lock: a real `ferry resolve` output (the fixture says which).
  await copyFile(new URL('../bundle/fixtures/lock-debian12-cpu.yaml', import.meta.url), join(dir, 'ferry.lock.yaml'));
  await writeFile(join(dir, 'unknown.yaml'), stringify({ apiVersion: 'ferry.dev/v1alpha1', kind: 'Playbook', name: 'x', phases: ['preflight', 'no-such-phase'] }));
});

const base = () => ['install', '-i', join(dir, 'cluster.yaml'), '--bundle', dir, '--state-dir', join(dir, 'state')];

describe('ferry install (inputs)', () => {
  it('names file, line and field of a bad inventory and exits 2', async () => {
    const r = await runFerry('install', '-i', join(dir, 'bad.yaml'), '--bundle', dir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bad\.yaml:\d+:\d+: hosts\[0\]\.name: must be a lowercase RFC 1123 label/);
  });

  it('refuses a playbook phase that does not exist, listing the known ones', async () => {
    const r = await runFerry(...base(), '--playbook', join(dir, 'unknown.yaml'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown\.yaml: phases\[1\]: unknown phase "no-such-phase" \(known: preflight, copy-bundle, local-repo, os-prepare, container-runtime, gpu-driver, registry, registry-mirrors, load-balancer, kubernetes-packages, kubeadm-init, join-control-planes, join-workers, cni, gpu-addons, verify, reset-/);
  });

  it('refuses --only with a phase the playbook lacks', async () => {
    const r = await runFerry(...base(), '--only', 'preflight,reset-kubeadm');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--only/--skip: no phase "reset-kubeadm" in this playbook');
  });

  it('refuses to run while another ferry holds the install lock', async () => {
    const held = await acquireInstallLock(join(dir, 'state', 'install.lock'), { pid: process.pid, hostname: (await import('node:os')).hostname(), command: 'ferry install', since: 'now' });
    try {
      const r = await runFerry(...base());
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/another ferry \(pid \d+ .*holds .*install\.lock/);
    } finally {
      await held.release();
    }
  });

  it('add-node refuses a host that is not in the inventory, before reaching any node', async () => {
    const r = await runFerry('add-node', '-i', join(dir, 'cluster.yaml'), '--bundle', dir, '--host', 'w9', '--state-dir', join(dir, 'state'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--host w9: no such host in .*cluster\.yaml/);
  });

  it('refuses a --bundle directory that does not exist, before anything runs', async () => {
    const r = await runFerry('install', '-i', join(dir, 'cluster.yaml'), '--bundle', join(dir, 'nowhere'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--bundle .*nowhere: no such directory/);
  });
});
