// Pure node-side decisions of the registry phases and the status judges, table-driven.
import { describe, expect, it } from 'vitest';
import { Inventory } from '../../src/config/inventory.ts';
import type { PlannedImage } from '../../src/registry/layout-plan.ts';
import { containerdHonoursPins, replicaEndpoints, trustStorePlan } from '../../src/registry/node-plan.ts';
import { judgeNodeResolve, judgeReplica, nodeResolveScript } from '../../src/registry/status.ts';

// /etc/os-release as shipped by Rocky Linux 9.4 and Debian 12 (first lines of the files on fresh installs).
const ROCKY_94 = 'NAME="Rocky Linux"\nVERSION="9.4 (Blue Onyx)"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\nPLATFORM_ID="platform:el9"\n';
const DEBIAN_12 = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n';
const ALMA_8 = 'NAME="AlmaLinux"\nVERSION="8.10 (Cerulean Leopard)"\nID="almalinux"\nID_LIKE="rhel centos fedora"\nVERSION_ID="8.10"\n';

describe('trustStorePlan', () => {
  const rows: [string, string, string, string[]][] = [
    ['Rocky 9.4', ROCKY_94, '/etc/pki/ca-trust/source/anchors/ferry-registry-ca.crt', ['update-ca-trust', 'extract']],
    ['AlmaLinux 8.10', ALMA_8, '/etc/pki/ca-trust/source/anchors/ferry-registry-ca.crt', ['update-ca-trust', 'extract']],
    ['Debian 12', DEBIAN_12, '/usr/local/share/ca-certificates/ferry-registry-ca.crt', ['update-ca-certificates']],
  ];
  it.each(rows)('%s', (_, text, anchor, update) => {
    expect(trustStorePlan(text)).toEqual({ anchor, update });
  });
});

describe('containerdHonoursPins', () => {
  // `containerd --version` output: Debian 12's package, containerd.io 1.7 and 2.x release builds.
  const rows: [string, boolean][] = [
    ['containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+b1', false],
    ['containerd containerd.io 1.7.24 88bf19b2105c8b17560993bee28a01ddc2f97182', true],
    ['containerd github.com/containerd/containerd/v2 v2.1.5 fcd43222d6b07379a4be9786bda52438f0dd16a1', true],
    ['not containerd at all', false],
  ];
  it.each(rows)('%s → %s', (text, want) => expect(containerdHonoursPins(text)).toBe(want));
});

describe('replicaEndpoints', () => {
  it('uses the registry hosts when there are any, else the control planes, brackets for IPv6', () => {
    const base = { apiVersion: 'ferry.dev/v1alpha1', kind: 'Cluster', name: 'c', network: { controlPlaneEndpoint: '10.0.0.100:6443' } };
    const cps = Inventory.parse({ ...base, kubernetes: { allowEvenControlPlanes: true }, hosts: [{ name: 'a', address: '10.0.0.1', roles: ['control-plane'] }, { name: 'b', address: 'fd00::2', roles: ['control-plane'] }, { name: 'w', address: '10.0.0.9', roles: ['worker'] }] });
    expect(replicaEndpoints(cps, 5000)).toEqual(['10.0.0.1:5000', '[fd00::2]:5000']);
    const dedicated = Inventory.parse({ ...base, hosts: [{ name: 'a', address: '10.0.0.1', roles: ['control-plane'] }, { name: 'r', address: '10.0.0.7', roles: ['registry', 'worker'] }] });
    expect(replicaEndpoints(dedicated, 5443)).toEqual(['10.0.0.7:5443']);
  });
});

describe('status judges', () => {
  const image = { repository: 'registry.k8s.io/pause', digest: `sha256:${'a'.repeat(64)}` } as PlannedImage;

  it('asks every replica for every image by digest, quoting each URL', () => {
    const script = nodeResolveScript(['10.0.0.1:5000', '10.0.0.2:5000'], [image], '/etc/ferry/registry/ca.crt').shell;
    expect(script).toContain(`https://10.0.0.1:5000/v2/registry.k8s.io/pause/manifests/sha256:${'a'.repeat(64)}`);
    expect(script).toContain(`https://10.0.0.2:5000/v2/registry.k8s.io/pause/manifests/sha256:${'a'.repeat(64)}`);
    expect(script).toContain('--cacert /etc/ferry/registry/ca.crt');
    expect(script).not.toContain('-k ');
  });

  it('turns FAIL lines into failing findings and silence into one pass', () => {
    expect(judgeNodeResolve('n1', '', 6)).toEqual([{ host: 'n1', check: 'images resolve by digest', ok: true, message: '6 manifest lookups, all 200' }]);
    const bad = judgeNodeResolve('n1', 'FAIL https://10.0.0.1:5000/v2/x/manifests/sha256:ab 000\nFAIL https://10.0.0.2:5000/v2/x/manifests/sha256:ab 404\n', 6);
    expect(bad.map((f) => [f.ok, f.message])).toEqual([
      [false, 'https://10.0.0.1:5000/v2/x/manifests/sha256:ab answered nothing (no connection or TLS failure)'],
      [false, 'https://10.0.0.2:5000/v2/x/manifests/sha256:ab answered HTTP 404'],
    ]);
  });

  it('fails a replica whose service is not active or whose files differ from the rendered ones', () => {
    const file = { path: '/etc/ferry/registry/config.yml', content: 'a: 1\n', mode: 0o644, secrets: [] };
    expect(judgeReplica('n1', 'active\n', [{ file, onNode: 'a: 1\n' }]).every((f) => f.ok)).toBe(true);
    const findings = judgeReplica('n1', 'failed\n', [{ file, onNode: 'a: 2\n' }]);
    expect(findings.map((f) => [f.check, f.ok, f.message])).toEqual([
      ['service', false, 'ferry-registry.service is failed'],
      ['/etc/ferry/registry/config.yml', false, 'differs from what ferry renders (run ferry registry deploy)'],
    ]);
    expect(judgeReplica('n1', 'active', [{ file, onNode: undefined }])[1]!.message).toBe('missing');
  });
});
