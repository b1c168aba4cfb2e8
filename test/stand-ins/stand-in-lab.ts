// Test support for the stand-in lab test: a lab whose nodes have containerd and the STAND-IN kubeadm/kubelet/kubectl
// packages installed with dpkg, the control-plane images imported as tiny local images (etcd's left out on
// purpose: its pull must fail), and kubeadm configs rendered by ferry's own renderers.
import { createHash, X509Certificate } from 'node:crypto';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { renderKubeadmInit, renderKubeadmJoin, type KubeadmClusterInput } from '../../src/render/kubeadm.ts';
import { fetchDebs } from '../lab/debs.ts';
import { startLab, type Lab } from '../lab/lab.ts';
import { makeTinyImage } from '../../src/lab/oci-image.ts';
import { ensureBaseRootfs } from '../../src/lab/rootfs.ts';
import { addressIn } from '../lab/subnet.ts';
import { standInDebs } from './debs.ts';

export const KUBERNETES = '1.33.1';
export const REPO = 'registry.ferry.internal:5000/registry.k8s.io';
export const CALICO_IMAGE = 'registry.ferry.internal:5000/docker.io/calico/node:v3.30.2';
/** Imported on every node; etcd's image is not, so the etcd static pod shows a real failed pull. */
const PRESENT = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map((c) => `${REPO}/${c}:v${KUBERNETES}`).concat(CALICO_IMAGE);

export interface StandInLab {
  lab: Lab;
  cluster: KubeadmClusterInput;
  vip: string;
  address(node: string): string;
  /** Run on a node; never throws: the outcome is for the test to judge. */
  exec(node: string, argv: string[], input?: string): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  kubectl(node: string, args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

/** sha256:<hex> of the DER SubjectPublicKeyInfo of a PEM certificate (what caCertHashes pins), computed by Node. */
export function caCertHash(pem: string): string {
  const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}

/** kubeadm init config for `node`, rendered by ferry. */
export function initConfig(s: StandInLab, node: string, token: string, certificateKey: string): string {
  return renderKubeadmInit({ cluster: s.cluster, node: { name: node, address: s.address(node) }, bootstrapToken: token, certificateKey }).content;
}

/** kubeadm join config for `node`, rendered by ferry; `edit` may change the parsed document (negative cases). */
export function joinConfig(
  s: StandInLab,
  node: string,
  opts: { token: string; caCertHashes: string[]; certificateKey?: string; edit?: (doc: Record<string, any>) => void },
): string {
  const text = renderKubeadmJoin({
    cluster: s.cluster, node: { name: node, address: s.address(node) }, bootstrapToken: opts.token,
    caCertHashes: opts.caCertHashes, ...(opts.certificateKey ? { certificateKey: opts.certificateKey } : {}),
  }).content;
  if (!opts.edit) return text;
  const doc = parseAllDocuments(text)[0]!.toJS() as Record<string, any>;
  opts.edit(doc);
  return stringify(doc);
}

/** Boot cp1, cp2, w1 with containerd and the stand-in packages; the VIP is a second address on cp1. */
export async function startStandInLab(): Promise<StandInLab> {
  const debs = await standInDebs(KUBERNETES);
  const containerd = await fetchDebs(['containerd']);
  const carried = await mkdtemp(join(tmpdir(), 'ferry-stand-ins-'));
  let lab: Lab | undefined;
  try {
    for (const f of (await readdir(containerd)).filter((n) => n.endsWith('.deb'))) await copyFile(join(containerd, f), join(carried, f));
    for (const f of debs.files) await copyFile(join(debs.dir, f), join(carried, f));
    await makeTinyImage((await ensureBaseRootfs()).dir, carried, PRESENT[0]!);
    lab = await startLab({ nodes: ['cp1', 'cp2', 'w1'], debs: carried });
    const l = lab;
    const exec = async (node: string, argv: string[], input?: string) =>
      l.nodeExec(node, argv, { allowFailure: true, ...(input === undefined ? {} : { input }) });
    const vip = addressIn(l.subnet, 100);
    await Promise.all(l.nodes.map(async (n) => {
      const r = await exec(n.name, ['sh', '-c', [
        'dpkg -i /debs/*.deb >/dev/null',
        'systemctl is-active -q containerd || systemctl start containerd',
        'ctr -n k8s.io images import /debs/tiny-image.tar >/dev/null',
        ...PRESENT.slice(1).map((ref) => `ctr -n k8s.io images tag ${PRESENT[0]} ${ref} >/dev/null`),
      ].join(' && ')]);
      if (r.exitCode !== 0) throw new Error(`setting up ${n.name} failed: ${r.stderr}`);
    }));
    await exec('cp1', ['ip', 'addr', 'add', `${vip}/32`, 'dev', 'host0']);
    const address = (node: string) => l.nodes.find((n) => n.name === node)!.address;
    const cluster: KubeadmClusterInput = {
      clusterName: 'stand-in-lab',
      kubelet: { kubernetesVersion: KUBERNETES, cgroup: 'v1', cri: 'containerd' },
      controlPlaneEndpoint: `${vip}:6443`, loadBalancer: 'vip', imageRepository: REPO, imageTags: { etcd: '3.5.21-0', coredns: 'v1.12.0' },
      podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/12', nodeAddresses: l.nodes.map((n) => n.address),
    };
    return {
      lab: l, cluster, vip, address, exec,
      kubectl: (node, args) => exec(node, ['kubectl', '--kubeconfig', '/etc/kubernetes/admin.conf', ...args]),
      async stop() {
        await l.stop();
        await rm(carried, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await lab?.stop();
    await rm(carried, { recursive: true, force: true });
    throw error;
  }
}

/** Poll (bounded, once a second) until `check` returns a value. */
export async function until<T>(what: string, check: () => Promise<T | undefined>, seconds = 40): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds}s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** `kubectl get <what> -o json` items through cp1's admin.conf; throws with kubectl's stderr when it fails. */
export async function listItems(s: StandInLab, what: 'nodes' | 'pods'): Promise<any[]> {
  const r = await s.kubectl('cp1', what === 'nodes' ? ['get', 'nodes', '-o', 'json'] : ['get', 'pods', '-A', '-o', 'json']);
  if (r.exitCode !== 0) throw new Error(`kubectl get ${what} exited ${r.exitCode}: ${r.stderr}`);
  return JSON.parse(r.stdout).items;
}

