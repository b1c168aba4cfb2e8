// The kubeadm / kubelet / kubectl / kube-apiserver STAND-INS on three lab nodes (cp1, cp2, w1), driven with configs
// rendered by ferry's renderers: init, control-plane and worker joins, nodes NotReady until a CNI DaemonSet runs,
// image pulls that fail as a real kubelet's would, every refusal the stand-ins promise (each changing nothing), reset.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caCertHash, CALICO_IMAGE, initConfig, joinConfig, KUBERNETES, listItems, startStandInLab, type StandInLab, until } from './stand-in-lab.ts';

const TOKEN = 'abcdef.0123456789abcdef';
const KEY = 'a1'.repeat(32);
const CONFIG = '/etc/ferry/kubeadm.yaml';
let s: StandInLab;
let caHash: string;

async function writeConfig(node: string, text: string) {
  const r = await s.exec(node, ['sh', '-c', `mkdir -p /etc/ferry && cat > ${CONFIG}`], text);
  expect(r.exitCode).toBe(0);
}

async function kubeadm(node: string, args: string[], env: Record<string, string> = {}) {
  const envArgv = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  return s.exec(node, ['env', ...envArgv, 'kubeadm', ...args]);
}

/** What a refused command must leave alone: kubeadm's outputs on the node. */
async function footprint(node: string) {
  return (await s.exec(node, ['sh', '-c', 'ls -A /etc/kubernetes /etc/kubernetes/manifests /var/lib/kubelet 2>&1; ls /var/lib/etcd 2>&1; true'])).stdout;
}



const nodes = () => listItems(s, 'nodes');
const pods = () => listItems(s, 'pods');

const ready = (n: any) => n.status.conditions.find((c: any) => c.type === 'Ready');

beforeAll(async () => {
  s = await startStandInLab();
});

afterAll(async () => {
  await s?.stop();
});

describe('kubeadm / kubelet / kubectl stand-ins on lab nodes', () => {
  it('say STAND-IN in their version output and refuse arguments they do not know', async () => {
    expect((await kubeadm('cp1', ['version', '-o', 'short'])).stdout.trim()).toBe(`v${KUBERNETES}`);
    expect((await kubeadm('cp1', ['version'])).stdout).toContain('STAND-IN');
    expect((await s.exec('cp1', ['kubelet', '--version'])).stdout).toContain('STAND-IN');
    expect(JSON.parse((await s.exec('cp1', ['kubectl', 'version', '--client', '-o', 'json'])).stdout).clientVersion.gitCommit).toBe('STAND-IN');
    const bad = await kubeadm('cp1', ['init', '--config', CONFIG, '--upload-certs', '--skip-phases=addon']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("unknown flag '--skip-phases=addon'");
    expect((await s.exec('cp1', ['kubectl', 'get', 'secrets', '-A'])).exitCode).toBe(2);
  });

  it('refuses an init config with an unknown field or the node itself as endpoint, changing nothing', async () => {
    const before = await footprint('cp1');
    await writeConfig('cp1', initConfig(s, 'cp1', TOKEN, KEY).replace('certificateKey:', 'certificateKeys: x\ncertificateKey:'));
    const unknownField = await kubeadm('cp1', ['init', '--config', CONFIG, '--upload-certs']);
    expect(unknownField.exitCode).toBe(2);
    expect(unknownField.stderr).toContain('strict decoding error: unknown field "certificateKeys"');
    // The renderer refuses a node address as endpoint, so the stand-in's own check is reached with an edited file.
    await writeConfig('cp1', initConfig(s, 'cp1', TOKEN, KEY).replace(`controlPlaneEndpoint: ${s.vip}:6443`, `controlPlaneEndpoint: ${s.address('cp1')}:6443`));
    const self = await kubeadm('cp1', ['init', '--config', CONFIG, '--upload-certs']);
    expect(self.exitCode).toBe(1);
    expect(self.stderr).toContain("is this node's own address");
    expect(await footprint('cp1')).toBe(before);
  });

  it('kubeadm init makes a real CA and kubeconfigs, and the API server answers through the endpoint', async () => {
    await writeConfig('cp1', initConfig(s, 'cp1', TOKEN, KEY));
    const started = performance.now();
    const init = await kubeadm('cp1', ['init', '--config', CONFIG, '--upload-certs']);
    console.log(`kubeadm init (stand-in): ${Math.round(performance.now() - started)} ms`);
    expect(init.exitCode, init.stderr).toBe(0);
    const files = (await s.exec('cp1', ['ls', '/etc/kubernetes', '/etc/kubernetes/manifests', '/etc/kubernetes/pki'])).stdout;
    for (const f of ['admin.conf', 'kubelet.conf', 'super-admin.conf', 'kube-apiserver.yaml', 'etcd.yaml', 'ca.crt', 'ca.key']) expect(files).toContain(f);
    const ca = (await s.exec('cp1', ['cat', '/etc/kubernetes/pki/ca.crt'])).stdout;
    caHash = caCertHash(ca);
    expect((await s.exec('cp1', ['openssl', 'x509', '-noout', '-subject', '-in', '/etc/kubernetes/pki/ca.crt'])).stdout).toContain('CN = kubernetes');
    const readyz = await s.kubectl('cp1', ['get', '--raw', '/readyz']);
    expect(readyz.stdout.trim()).toBe('ok');
    expect((await s.exec('cp1', ['grep', `server: https://${s.vip}:6443`, '/etc/kubernetes/admin.conf'])).exitCode).toBe(0);
    expect((await s.exec('cp1', ['grep', 'cgroupDriver: systemd', '/var/lib/kubelet/config.yaml'])).exitCode).toBe(0);
  });

  it('refuses to init twice with kubeadm\'s DirAvailable preflight error, changing nothing', async () => {
    const before = await footprint('cp1');
    const ca = (await s.exec('cp1', ['sha256sum', '/etc/kubernetes/pki/ca.crt'])).stdout;
    const again = await kubeadm('cp1', ['init', '--config', CONFIG, '--upload-certs']);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain('[ERROR DirAvailable--etc-kubernetes-manifests]: /etc/kubernetes/manifests is not empty');
    expect(again.stderr).toContain('[ERROR DirAvailable--var-lib-etcd]: /var/lib/etcd is not empty');
    expect(await footprint('cp1')).toBe(before);
    expect((await s.exec('cp1', ['sha256sum', '/etc/kubernetes/pki/ca.crt'])).stdout).toBe(ca);
  });

  it('refuses joins with a wrong CA hash, an unknown token or an endpoint that is the node itself, changing nothing', async () => {
    const before = await footprint('w1');
    await writeConfig('w1', joinConfig(s, 'w1', { token: TOKEN, caCertHashes: [`sha256:${'0'.repeat(64)}`] }));
    const wrongCa = await kubeadm('w1', ['join', '--config', CONFIG]);
    expect(wrongCa.exitCode).toBe(1);
    expect(wrongCa.stderr).toContain(`none of the public keys "${caHash}" are pinned`);
    await writeConfig('w1', joinConfig(s, 'w1', { token: 'zzzzzz.0123456789abcdef', caCertHashes: [caHash] }));
    const badToken = await kubeadm('w1', ['join', '--config', CONFIG]);
    expect(badToken.exitCode).toBe(1);
    expect(badToken.stderr).toContain('could not find a JWS signature in the cluster-info ConfigMap for token ID "zzzzzz"');
    await writeConfig('w1', joinConfig(s, 'w1', { token: TOKEN, caCertHashes: [caHash], edit: (d) => { d.discovery.bootstrapToken.apiServerEndpoint = `${s.address('w1')}:6443`; } }));
    const self = await kubeadm('w1', ['join', '--config', CONFIG]);
    expect(self.exitCode).toBe(1);
    expect(self.stderr).toContain("is this node's own address");
    await writeConfig('w1', joinConfig(s, 'w1', { token: TOKEN, caCertHashes: [caHash], edit: (d) => { d.discovery.bootstrapToken.timeout = '5m'; } }));
    const unknownField = await kubeadm('w1', ['join', '--config', CONFIG]);
    expect(unknownField.exitCode).toBe(2);
    expect(unknownField.stderr).toContain('unknown field "discovery.bootstrapToken.timeout"');
    expect(await footprint('w1')).toBe(before);
  });

  it('refuses a control-plane join with a wrong certificate key, with certs uploaded over 2 h ago, or beside another one', async () => {
    const before = await footprint('cp2');
    await writeConfig('cp2', joinConfig(s, 'cp2', { token: TOKEN, caCertHashes: [caHash], certificateKey: 'b2'.repeat(32) }));
    const wrongKey = await kubeadm('cp2', ['join', '--config', CONFIG]);
    expect(wrongKey.exitCode).toBe(1);
    expect(wrongKey.stderr).toContain('error decoding secret data with provided key');
    await writeConfig('cp2', joinConfig(s, 'cp2', { token: TOKEN, caCertHashes: [caHash], certificateKey: KEY }));
    const late = await kubeadm('cp2', ['join', '--config', CONFIG], { FERRY_STAND_IN_CLOCK_OFFSET: String(2 * 3600 + 60) });
    expect(late.exitCode).toBe(1);
    expect(late.stderr).toContain('Secret "kubeadm-certs" was not found in the "kube-system" Namespace. This Secret might have expired');
    // Another control plane holds the join lock (taken through the API as a joining kubeadm would).
    const lock = (op: string) => s.exec('cp1', ['python3', '-c',
      `import sys; sys.path.insert(0, "/usr/lib/ferry-stand-in/kubeadm"); import stand_in as s; s.Client.from_kubeconfig("/etc/kubernetes/admin.conf").call("${op}", {"node": "cp9"})`]);
    expect((await lock('cp-join-begin')).exitCode).toBe(0);
    const concurrent = await kubeadm('cp2', ['join', '--config', CONFIG]);
    expect((await lock('cp-join-end')).exitCode).toBe(0);
    expect(concurrent.exitCode).toBe(1);
    expect(concurrent.stderr).toContain('("cp9") is joining the cluster right now');
    expect(await footprint('cp2')).toBe(before);
  });

  it('joins cp2 as a control plane and w1 as a worker with its node labels; nodes are NotReady without CNI', async () => {
    const started = performance.now();
    const cp2 = await kubeadm('cp2', ['join', '--config', CONFIG]);
    expect(cp2.exitCode, cp2.stderr).toBe(0);
    await writeConfig('w1', joinConfig(s, 'w1', {
      token: TOKEN, caCertHashes: [caHash],
      edit: (d) => { d.nodeRegistration.kubeletExtraArgs.push({ name: 'node-labels', value: 'ferry.dev/gpu=true' }); },
    }));
    const w1 = await kubeadm('w1', ['join', '--config', CONFIG]);
    expect(w1.exitCode, w1.stderr).toBe(0);
    console.log(`two joins (stand-in): ${Math.round(performance.now() - started)} ms`);
    const listed = await until('3 nodes with posted status', async () => {
      const items = await nodes();
      return items.length === 3 && items.every((n) => ready(n).status === 'False') ? items : undefined;
    });
    expect(listed.map((n) => n.metadata.name)).toEqual(['cp1', 'cp2', 'w1']);
    for (const n of listed) expect(ready(n).reason).toBe('NetworkPluginNotReady');
    const byName = Object.fromEntries(listed.map((n) => [n.metadata.name, n]));
    expect(byName.cp2.metadata.labels).toHaveProperty('node-role.kubernetes.io/control-plane', '');
    expect(byName.cp2.spec.taints).toEqual([{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }]);
    expect(byName.w1.metadata.labels['ferry.dev/gpu']).toBe('true');
    expect(byName.w1.spec.taints).toEqual([]);
    // cp2's API server answers too (it forwards to cp1's state): the --server override reaches it.
    const viaCp2 = await s.kubectl('cp1', ['--server', `https://${s.address('cp2')}:6443`, 'get', 'nodes', '-o', 'json']);
    expect(viaCp2.exitCode, viaCp2.stderr).toBe(0);
    expect(JSON.parse(viaCp2.stdout).items).toHaveLength(3);
  });

  it('reports a static pod whose image cannot be pulled as Pending with the pull error', async () => {
    const etcd = await until('etcd pod with a failed pull', async () => {
      const p = (await pods()).find((x) => x.metadata.name === 'etcd-cp1');
      const reason = p?.status.containerStatuses[0].state.waiting?.reason;
      return reason === 'ErrImagePull' || reason === 'ImagePullBackOff' ? p : undefined;
    });
    expect(etcd.status.phase).toBe('Pending');
    expect(etcd.status.containerStatuses[0].state.waiting.message).toContain('registry.ferry.internal:5000/registry.k8s.io/etcd');
    const api = (await pods()).find((x) => x.metadata.name === 'kube-apiserver-cp1');
    expect(api.status.phase).toBe('Running');
  });

  it('keeps the API server running, the same process, while kubelet is stopped and after it restarts (static pods outlive kubelet)', async () => {
    const mainPid = async () => (await s.exec('cp1', ['systemctl', 'show', '-p', 'MainPID', '--value', 'ferry-stand-in-kube-apiserver.service'])).stdout.trim();
    const before = await mainPid();
    expect(Number(before)).toBeGreaterThan(0);
    expect((await s.exec('cp1', ['systemctl', 'stop', 'kubelet'])).exitCode).toBe(0);
    const down = await s.kubectl('cp1', ['get', '--raw', '/readyz']);
    expect(down.stdout.trim(), down.stderr).toBe('ok');
    const restarted = new Date(Math.ceil(Date.now() / 1000) * 1000 + 1000).toISOString().replace('.000Z', 'Z');
    expect((await s.exec('cp1', ['systemctl', 'start', 'kubelet'])).exitCode).toBe(0);
    // The restarted kubelet has looked at the manifest (it posts a heartbeat after each look) and adopted the process.
    await until('a heartbeat from the restarted kubelet', async () => {
      const at = ready((await nodes()).find((n) => n.metadata.name === 'cp1')).lastHeartbeatTime as string;
      return at >= restarted ? at : undefined;
    });
    expect(await mainPid()).toBe(before);
    expect((await s.kubectl('cp1', ['get', '--raw', '/readyz'])).stdout.trim()).toBe('ok');
  });

  it('runs applied DaemonSets and Deployments: calico-node turns every node Ready, a missing image stays in ImagePullBackOff', async () => {
    const manifest = [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'calico-system' } },
      { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'calico-node', namespace: 'calico-system' },
        spec: { template: { metadata: { labels: { 'k8s-app': 'calico-node' } }, spec: { tolerations: [{ operator: 'Exists' }], containers: [{ name: 'calico-node', image: CALICO_IMAGE }] } } } },
      { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'gpu-only', namespace: 'kube-system' },
        spec: { template: { spec: { nodeSelector: { 'ferry.dev/gpu': 'true' }, containers: [{ name: 'x', image: 'registry.ferry.internal:5000/nvidia/missing:1' }] } } } },
      // No toleration: the control planes' NoSchedule taint leaves w1 as the only place for both replicas.
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
        spec: { replicas: 2, template: { spec: { containers: [{ name: 'web', image: CALICO_IMAGE }] } } } },
    ].map((o) => JSON.stringify(o)).join('\n---\n');
    await s.exec('cp1', ['sh', '-c', 'cat > /root/cni.yaml'], manifest);
    const applied = await s.kubectl('cp1', ['apply', '--server-side', '--force-conflicts', '-f', '/root/cni.yaml']);
    expect(applied.exitCode, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('daemonset.apps/calico-node serverside-applied');
    const all = await until('every node Ready', async () => {
      const items = await nodes();
      return items.every((n) => ready(n).status === 'True') ? items : undefined;
    });
    expect(all).toHaveLength(3);
    for (const n of all) {
      expect(n.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\/1\.\d+\.\d+/);
      expect(n.status.allocatable.pods).toBe('110');
    }
    for (const n of ['cp1', 'cp2', 'w1']) expect((await s.exec(n, ['test', '-f', '/etc/cni/net.d/10-calico.conflist'])).exitCode).toBe(0);
    const p = await pods();
    expect(p.filter((x) => x.metadata.ownerReferences?.[0].name === 'calico-node' && x.status.phase === 'Running').map((x) => x.spec.nodeName).sort()).toEqual(['cp1', 'cp2', 'w1']);
    const web = await until('2 Running web replicas', async () => {
      const x = (await pods()).filter((q) => q.metadata.ownerReferences?.[0].name === 'web' && q.status.phase === 'Running');
      return x.length === 2 ? x : undefined;
    });
    expect(web.map((x) => x.spec.nodeName)).toEqual(['w1', 'w1']);
    const gpu = await until('gpu-only pod with a failed pull', async () => {
      const x = (await pods()).find((q) => q.metadata.ownerReferences?.[0].name === 'gpu-only');
      return ['ErrImagePull', 'ImagePullBackOff'].includes(x?.status.containerStatuses[0].state.waiting?.reason) ? x : undefined;
    });
    expect(gpu.spec.nodeName).toBe('w1');
    const labelled = await s.kubectl('cp1', ['label', 'node', 'w1', 'ferry.dev/gpu=false']);
    expect(labelled.exitCode).toBe(1);
    expect(labelled.stderr).toContain("'ferry.dev/gpu' already has a value (true), and --overwrite is false");
    expect((await s.kubectl('cp1', ['label', 'node', 'w1', 'ferry.dev/gpu=false', '--overwrite'])).exitCode).toBe(0);
    const deleted = await s.kubectl('cp1', ['delete', '-f', '/root/cni.yaml', '--ignore-not-found']);
    expect(deleted.exitCode, deleted.stderr).toBe(0);
  });

  it('re-uploads certs; reset -f leaves a worker and a control plane clean; deleted or expired tokens stop joins, token create lets them in', async () => {
    const up = await kubeadm('cp1', ['init', 'phase', 'upload-certs', '--upload-certs', '--config', CONFIG]);
    expect(up.exitCode, up.stderr).toBe(0);
    const listed = await kubeadm('cp1', ['token', 'list', '--kubeconfig', '/etc/kubernetes/admin.conf', '-o', 'json']);
    expect(listed.stdout).toContain('"token": "abcdef.');
    for (let i = 0; i < 2; i++) {
      const reset = await kubeadm('w1', ['reset', '-f']);
      expect(reset.exitCode, reset.stderr).toBe(0);
    }
    expect((await s.exec('w1', ['ls', '-A', '/etc/kubernetes', '/etc/kubernetes/manifests'])).stdout.trim()).toBe('/etc/kubernetes:\nmanifests\n\n/etc/kubernetes/manifests:');
    expect((await s.exec('w1', ['test', '-e', '/var/lib/kubelet/config.yaml'])).exitCode).not.toBe(0);
    expect((await s.exec('w1', ['systemctl', 'is-active', 'kubelet'])).stdout.trim()).toBe('inactive');
    expect((await nodes()).map((n) => n.metadata.name)).toEqual(['cp1', 'cp2']);
    // A control plane's reset also stops its API server and takes its certificates and etcd data away.
    expect((await kubeadm('cp2', ['reset', '-f'])).exitCode).toBe(0);
    expect((await s.exec('cp2', ['ss', '-Hltn', 'sport = :6443'])).stdout.trim()).toBe('');
    expect((await s.exec('cp2', ['ls', '-A', '/etc/kubernetes', '/etc/kubernetes/manifests'])).stdout.trim()).toBe('/etc/kubernetes:\nmanifests\n\n/etc/kubernetes/manifests:');
    expect((await nodes()).map((n) => n.metadata.name)).toEqual(['cp1']);
    expect((await kubeadm('cp1', ['token', 'delete', 'abcdef', '--kubeconfig', '/etc/kubernetes/admin.conf'])).exitCode).toBe(0);
    const rejoin = await kubeadm('w1', ['join', '--config', CONFIG]);
    expect(rejoin.exitCode).toBe(1);
    expect(rejoin.stderr).toContain('could not find a JWS signature in the cluster-info ConfigMap for token ID "abcdef"');
    // A token made with kubeadm token create lets it in again; one whose ttl ran out does not.
    const create = (token: string, ttl: string) => kubeadm('cp1', ['token', 'create', token, '--ttl', ttl, '--kubeconfig', '/etc/kubernetes/admin.conf']);
    expect((await create('short0.0123456789abcdef', '1s')).exitCode).toBe(0);
    await new Promise((r) => setTimeout(r, 1500));
    await writeConfig('w1', joinConfig(s, 'w1', { token: 'short0.0123456789abcdef', caCertHashes: [caHash] }));
    expect((await kubeadm('w1', ['join', '--config', CONFIG])).stderr).toContain('for token ID "short0"');
    const created = await create(TOKEN, '1h');
    expect(created.exitCode, created.stderr).toBe(0);
    expect(created.stdout.trim()).toBe(TOKEN);
    expect((await create(TOKEN, '1h')).stderr).toContain('"bootstrap-token-abcdef" already exists');
    await writeConfig('w1', joinConfig(s, 'w1', { token: TOKEN, caCertHashes: [caHash] }));
    const joined = await kubeadm('w1', ['join', '--config', CONFIG]);
    expect(joined.exitCode, joined.stderr).toBe(0);
    expect((await nodes()).map((n) => n.metadata.name)).toEqual(['cp1', 'w1']);
  });

  it('logs every call with argv and exit code', async () => {
    const log = (await s.exec('cp2', ['cat', '/var/log/ferry-stand-in/calls.jsonl'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    const joins = log.filter((c) => c.tool === 'kubeadm' && c.argv[0] === 'join');
    expect(joins.map((c) => c.exit)).toEqual([1, 1, 1, 0]);
    expect(joins[3].argv).toEqual(['join', '--config', CONFIG]);
    // kubelet crash-looped (exit 1) until the join wrote its config, and stopped cleanly (exit 0) at reset.
    const kubelet = log.filter((c) => c.tool === 'kubelet');
    expect(kubelet[0].exit).toBe(1);
    expect(kubelet.at(-1).exit).toBe(0);
    expect(log.filter((c) => c.tool === 'kubeadm' && c.argv[0] === 'reset').map((c) => c.exit)).toEqual([0]);
    // Tokens on a command line are logged without their secret half.
    const cp1 = (await s.exec('cp1', ['cat', '/var/log/ferry-stand-in/calls.jsonl'])).stdout;
    expect(cp1).toContain('"token", "create", "abcdef.<redacted>", "--ttl", "1h"');
    expect(cp1).not.toContain(TOKEN.split('.')[1]);
  });
});
