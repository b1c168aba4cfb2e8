// The stand-ins' strict config decoding, run on this machine's python3: configs rendered by ferry pass, and each
// field kubeadm v1beta4 / kubelet v1beta1 do not know is refused with exit 2, like kubeadm's strict decoding.
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderKubeadmInit, renderKubeadmJoin, type KubeadmClusterInput } from '../../src/render/kubeadm.ts';

const PY = join(dirname(fileURLToPath(import.meta.url)), 'py');
const cluster: KubeadmClusterInput = {
  clusterName: 'lab', kubelet: { kubernetesVersion: '1.33.1', cgroup: 'v2', cri: 'containerd' },
  controlPlaneEndpoint: '10.9.0.100:6443', loadBalancer: 'vip', imageRepository: 'registry.ferry.internal:5000/registry.k8s.io', imageTags: { etcd: '3.5.21-0', coredns: 'v1.12.0' },
  podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/12', nodeAddresses: ['10.9.0.11', '10.9.0.12'],
};
const init = renderKubeadmInit({ cluster, node: { name: 'cp1', address: '10.9.0.11' }, bootstrapToken: 'abcdef.0123456789abcdef', certificateKey: 'a'.repeat(64) }).content;
const join_ = renderKubeadmJoin({ cluster, node: { name: 'cp2', address: '10.9.0.12' }, bootstrapToken: 'abcdef.0123456789abcdef', caCertHashes: [`sha256:${'b'.repeat(64)}`], certificateKey: 'c'.repeat(64) }).content;

let work: string;

/** Run a snippet with the stand-ins' module on the path; exit code 2/1 and stderr come from StandInError. */
async function py(code: string) {
  const script = `import sys\nsys.dont_write_bytecode = True\nsys.path.insert(0, ${JSON.stringify(PY)})\nimport stand_in\ntry:\n${code.split('\n').map((l) => `    ${l}`).join('\n')}\nexcept stand_in.StandInError as e:\n    print(e, file=sys.stderr)\n    sys.exit(e.code)\n`;
  return execa('python3', ['-c', script], { reject: false });
}

async function load(text: string) {
  const file = join(work, 'kubeadm.yaml');
  await writeFile(file, text);
  return py(`print(sorted(stand_in.load_config(${JSON.stringify(file)})))`);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ferry-stand-in-strict-'));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('stand-in strict decoding', () => {
  it.each([
    ['the rendered init config', init, "['ClusterConfiguration', 'InitConfiguration', 'KubeletConfiguration']"],
    ['the rendered control-plane join config', join_, "['JoinConfiguration']"],
  ])('accepts %s', async (_name, text, kinds) => {
    const r = await load(text);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(kinds);
  });

  it.each([
    ['an unknown top-level field', init.replace('certificateKey:', 'certificateKeys: x\ncertificateKey:'), 'unknown field "certificateKeys"'],
    ['an unknown field in a list item', init.replace('    - name: node-ip', '    - name: node-ip\n      flag: x'), 'unknown field "nodeRegistration.kubeletExtraArgs[0].flag"'],
    ['a v1beta3 field that v1beta4 dropped', init.replace('  certSANs:', '  timeoutForControlPlane: 4m0s\n  certSANs:'), 'unknown field "apiServer.timeoutForControlPlane"'],
    ['an unknown kubelet field', init.replace('cgroupDriver: systemd', 'cgroupDriver: systemd\ncgroupDrivers: x'), 'unknown field "cgroupDrivers"'],
    ['discovery.timeout (moved to timeouts in v1beta4)', join_.replace('    caCertHashes:', '    timeout: 5m0s\n    caCertHashes:'), 'unknown field "discovery.bootstrapToken.timeout"'],
    ['kubeadm v1beta3', init.replaceAll('kubeadm.k8s.io/v1beta4', 'kubeadm.k8s.io/v1beta3'), "unknown configuration apiVersion/kind ('kubeadm.k8s.io/v1beta3', 'InitConfiguration')"],
    ['a kind given twice', `${join_}---\n${join_}`, 'JoinConfiguration appears twice'],
  ])('refuses %s with exit 2', async (_name, text, message) => {
    const r = await load(text);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it('pins the CA by the same public-key hash that Node computes from the certificate', async () => {
    const r = await py(`stand_in.make_ca(${JSON.stringify(join(work, 'ca.crt'))}, ${JSON.stringify(join(work, 'ca.key'))}, "kubernetes")\nprint(stand_in.spki_hash(stand_in.read(${JSON.stringify(join(work, 'ca.crt'))})))`);
    expect(r.exitCode, r.stderr).toBe(0);
    const spki = new X509Certificate(await readFile(join(work, 'ca.crt'))).publicKey.export({ type: 'spki', format: 'der' });
    expect(r.stdout.trim()).toBe(`sha256:${createHash('sha256').update(spki).digest('hex')}`);
  });
});
