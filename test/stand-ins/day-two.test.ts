// The day-two STAND-INS' rules, run on this machine's python3: kubeadm's upgrade version-skew policy, the kubelet skew
// rule, PodDisruptionBudget eviction decisions, kubectl drain's filters and flags, and `kubeadm certs
// check-expiration|renew` over a real openssl PKI, read back by ferry's own parser and cross-checked with Node's X.509.
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCheckExpiration } from '../../src/certs/expiry.ts';

const PY = join(dirname(fileURLToPath(import.meta.url)), 'py');
let work: string;

/** Run a snippet with the stand-ins' modules on the path; prints JSON of `result`. StandInError → its exit code. */
async function py(code: string) {
  const body = code.split('\n').map((l) => `    ${l}`).join('\n');
  const script = `import sys, json\nsys.dont_write_bytecode = True\nsys.path.insert(0, ${JSON.stringify(PY)})\nimport stand_in\ntry:\n${body}\nexcept stand_in.StandInError as e:\n    print(e, file=sys.stderr)\n    sys.exit(e.code)\n`;
  return execa('python3', ['-c', script], { reject: false });
}

async function pyJson(code: string): Promise<any> {
  const r = await py(`${code}\nprint(json.dumps(result))`);
  expect(r.exitCode, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ferry-stand-in-day2-'));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('kubeadm upgrade: version-skew policy (policy.go)', () => {
  it.each([
    ['a patch upgrade with a matching kubeadm', 'v1.33.1', 'v1.33.4', 'v1.33.4', ['v1.33.1'], [], []],
    ['one minor up', 'v1.33.1', 'v1.34.1', 'v1.34.1', ['v1.33.1'], [], []],
    ['skipping a minor', 'v1.33.1', 'v1.35.0', 'v1.35.0', ['v1.33.1'], ['is too high; kubeadm can upgrade only 1 minor version at a time'], ['too old that have these versions [v1.33.1]']],
    ['a target above kubeadm\'s minor', 'v1.33.1', 'v1.33.1', 'v1.34.0', [], ['at least one minor release higher than the kubeadm minor release (34 > 33)'], []],
    ['a target above kubeadm\'s patch', 'v1.33.1', 'v1.34.0', 'v1.34.1', [], [], ['is higher than the kubeadm version "v1.34.0". Upgrade kubeadm first']],
    ['a kubeadm newer than the target minor', 'v1.33.1', 'v1.34.1', 'v1.33.5', [], [], ['Kubeadm version v1.34.1 can only be used to upgrade to Kubernetes version 1.34']],
    ['two minors down', 'v1.34.1', 'v1.34.1', 'v1.32.0', [], ['is too low; kubeadm can downgrade only 1 minor version at a time'], ['can only be used to upgrade to Kubernetes version 1.34']],
    ['a release candidate', 'v1.33.1', 'v1.34.0', 'v1.34.0-rc.1', [], [], ['is an unstable version']],
  ])('%s', async (_name, cluster, kubeadm, target, kubelets, mandatory, skippable) => {
    const [m, s] = await pyJson(`import kubeadm_upgrade as u\nresult = u.enforce_version_policies(${JSON.stringify(cluster)}, ${JSON.stringify(kubeadm)}, ${JSON.stringify(target)}, ${JSON.stringify(kubelets)})`);
    expect(m).toHaveLength(mandatory.length);
    expect(s).toHaveLength(skippable.length);
    mandatory.forEach((text, i) => expect(m[i]).toContain(text));
    skippable.forEach((text, i) => expect(s[i]).toContain(text));
  });

  it('words a fatal refusal as kubeadm does', async () => {
    const text = await pyJson(`import kubeadm_upgrade as u\nresult = u.version_error(*u.enforce_version_policies("v1.33.1", "v1.35.0", "v1.35.0", []))`);
    expect(text).toBe('[upgrade/version] FATAL: the version argument is invalid due to these fatal errors:\n\n\t- Specified version to upgrade to "v1.35.0" is too high; kubeadm can upgrade only 1 minor version at a time\n\nPlease fix the misalignments highlighted above and try upgrading again');
  });

  it.each([
    ['kubelet equal to the API server', 'v1.34.1', 'v1.34.1', null],
    ['kubelet one minor older', 'v1.33.9', 'v1.34.1', null],
    ['kubelet newer than the API server', 'v1.34.1', 'v1.33.1', 'is newer than kube-apiserver v1.33.1'],
    ['kubelet four minors older', 'v1.30.0', 'v1.34.1', 'more than three minor versions older'],
  ])('kubelet skew: %s', async (_name, kubelet, apiserver, message) => {
    const got = await pyJson(`import kubeadm_upgrade as u\nresult = u.kubelet_skew(${JSON.stringify(kubelet)}, ${JSON.stringify(apiserver)})`);
    if (message === null) expect(got).toBeNull();
    else expect(got).toContain(message);
  });
});

describe('eviction and PodDisruptionBudgets', () => {
  const pod = (name: string, running = true, labels: Record<string, string> = { app: 'web' }) => ({
    metadata: { name, namespace: 'default', labels },
    status: { phase: running ? 'Running' : 'Pending', conditions: [{ type: 'Ready', status: running ? 'True' : 'False' }] },
  });
  const pdb = (spec: Record<string, unknown>, name = 'web') => ({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name, namespace: 'default' }, spec: { selector: { matchLabels: { app: 'web' } }, ...spec } });
  const two = [pod('a'), pod('b')];
  it.each([
    ['no budget', [], two, null],
    ['minAvailable 2 of 2 healthy', [pdb({ minAvailable: 2 })], two, [429, "Cannot evict pod as it would violate the pod's disruption budget."]],
    ['minAvailable 1 of 2 healthy', [pdb({ minAvailable: 1 })], two, null],
    ['maxUnavailable 1 with one already down', [pdb({ maxUnavailable: 1 })], [pod('a'), pod('b', false)], [429, "Cannot evict pod as it would violate the pod's disruption budget."]],
    ['maxUnavailable 50% of 2 healthy', [pdb({ maxUnavailable: '50%' })], two, null],
    ['minAvailable 100%', [pdb({ minAvailable: '100%' })], two, [429, "Cannot evict pod as it would violate the pod's disruption budget."]],
    ['two budgets on one pod', [pdb({ minAvailable: 1 }), pdb({ minAvailable: 1 }, 'web2')], two, [500, 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.']],
    ['a budget for other pods', [pdb({ minAvailable: 2 })], [pod('a', true, { app: 'db' }), pod('b')], null],
  ])('%s', async (_name, pdbs, pods, refusal) => {
    const got = await pyJson(`import disruption as d\nresult = d.eviction_refusal(${JSON.stringify(pods[0])}, ${JSON.stringify(pdbs)}, ${JSON.stringify(pods)})`.replaceAll('null', 'None').replaceAll('true', 'True').replaceAll('false', 'False'));
    expect(got).toEqual(refusal);
  });

  it.each([
    ['a matchExpressions selector', { selector: { matchExpressions: [] }, minAvailable: 1 }],
    ['both minAvailable and maxUnavailable', { selector: { matchLabels: { app: 'web' } }, minAvailable: 1, maxUnavailable: 1 }],
    ['an unknown spec field', { selector: { matchLabels: { app: 'web' } }, minAvailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' }],
  ])('refuses (exit 2) a budget with %s', async (_name, spec) => {
    const r = await py(`import disruption as d\nd.check_pdb(${JSON.stringify({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'x' }, spec })})`);
    expect(r.exitCode).toBe(2);
  });
});

describe('kubectl drain flags and filters (filters.go)', () => {
  it.each([
    [['w1', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=2m'], { node: 'w1', timeout: 120 }, 0],
    [['--timeout', '90s', 'w1'], { node: 'w1', timeout: 90 }, 0],
    [['w1'], undefined, 2],
    [['w1', '--timeout=soon'], undefined, 2],
    [['w1', '--timeout=1m', '--grace-period=5'], undefined, 2],
    [['w1', 'w2', '--timeout=1m'], undefined, 2],
  ])('parses %j', async (args, want, code) => {
    const r = await py(`import kubectl_drain as k\nnode, flags = k.parse_drain(${JSON.stringify(args)})\nprint(json.dumps({"node": node, "timeout": flags["timeout"]}))`);
    expect(r.exitCode, r.stderr).toBe(code);
    if (want) expect(JSON.parse(r.stdout)).toEqual(want);
  });

  const owned = (kind: string) => ({ ownerReferences: [{ kind, name: 'x' }] });
  it.each([
    ['a DaemonSet pod without --ignore-daemonsets', { metadata: owned('DaemonSet'), spec: {}, status: { phase: 'Running' } }, {}, [false, null, 'DaemonSet-managed Pods (use --ignore-daemonsets to ignore)']],
    ['a DaemonSet pod with it', { metadata: owned('DaemonSet'), spec: {}, status: { phase: 'Running' } }, { 'ignore-daemonsets': true }, [false, 'ignoring DaemonSet-managed Pods', null]],
    ['a mirror pod', { metadata: { annotations: { 'kubernetes.io/config.mirror': 'x' } }, spec: {}, status: { phase: 'Running' } }, {}, [false, null, null]],
    ['an emptyDir pod', { metadata: owned('ReplicaSet'), spec: { volumes: [{ name: 'v', emptyDir: {} }] }, status: { phase: 'Running' } }, {}, [false, null, 'Pods with local storage (use --delete-emptydir-data to override)']],
    ['an emptyDir pod with --delete-emptydir-data', { metadata: owned('ReplicaSet'), spec: { volumes: [{ name: 'v', emptyDir: {} }] }, status: { phase: 'Running' } }, { 'delete-emptydir-data': true }, [true, null, null]],
    ['a pod without a controller', { metadata: {}, spec: {}, status: { phase: 'Running' } }, {}, [false, null, 'cannot delete Pods that declare no controller (use --force to override)']],
    ['a Deployment pod', { metadata: owned('ReplicaSet'), spec: {}, status: { phase: 'Running' } }, {}, [true, null, null]],
  ])('classifies %s', async (_name, pod, flags, want) => {
    const all = { 'ignore-daemonsets': false, 'delete-emptydir-data': false, force: false, ...flags };
    const got = await pyJson(`import kubectl_drain as k\nresult = list(k.classify(json.loads(${JSON.stringify(JSON.stringify(pod))}), json.loads(${JSON.stringify(JSON.stringify(all))})))`);
    expect(got).toEqual(want);
  });

  it.each([[30, '30s'], [120, '2m0s'], [3605, '1h0m5s']])('prints %d s as Go does: %s', async (s, text) => {
    expect(await pyJson(`import kubectl_drain as k\nresult = k.go_duration(${s})`)).toBe(text);
  });
});

describe('kubeadm certs check-expiration and renew over a real PKI', () => {
  const pki = () => join(work, 'pki');
  const kube = () => work;

  beforeAll(async () => {
    // Every certificate kubeadm lists, made with the stand-ins' own openssl helpers (as kubeadm init does).
    const r = await py(`import os
import kubeadm_certs as c
pki, kube = ${JSON.stringify(join(work, 'pki'))}, ${JSON.stringify(work)}
os.makedirs(pki + "/etcd", exist_ok=True)
for name, rel in c.CAS:
    stand_in.make_ca(f"{pki}/{rel}.crt", f"{pki}/{rel}.key", name)
cas = dict(c.CAS)
for name, kind, rel, ca, _ in c.CERTS:
    signer = (f"{pki}/{cas[ca]}.crt", f"{pki}/{cas[ca]}.key")
    if kind == "pki":
        stand_in.make_leaf(f"{pki}/{rel}.crt", f"{pki}/{rel}.key", *signer, name, sans=["cp1", "10.0.0.11"])
    else:
        stand_in.make_leaf(f"{kube}/c", f"{kube}/k", *signer, name, "system:masters")
        stand_in.write(f"{kube}/{rel}", stand_in.kubeconfig("https://10.0.0.100:6443", stand_in.read(f"{pki}/ca.crt"), name, stand_in.read(f"{kube}/c"), stand_in.read(f"{kube}/k")))`);
    expect(r.exitCode, r.stderr).toBe(0);
  });

  async function notAfterOf(name: string, kind: string, rel: string): Promise<Date> {
    if (kind === 'pki') return new Date(new X509Certificate(await readFile(join(pki(), `${rel}.crt`))).validTo);
    const doc = parseYaml(await readFile(join(kube(), rel), 'utf8'));
    return new Date(new X509Certificate(Buffer.from(doc.users[0].user['client-certificate-data'], 'base64')).validTo);
  }

  it("prints kubeadm's table, which ferry's parser reads back to each file's notAfter", async () => {
    const r = await py(`import time, kubeadm_certs as c\nprint(c.check_expiration(${JSON.stringify(pki())}, ${JSON.stringify(kube())}, time.time()), end="")`);
    expect(r.exitCode, r.stderr).toBe(0);
    const capture = await readFile(join(import.meta.dirname, '..', 'certs', 'fixtures', 'kubeadm-1.33-capture.txt'), 'utf8');
    // Same names, so the same tabwriter columns as the real kubeadm 1.33 output.
    const header = (t: string) => t.split('\n').filter((l) => l.startsWith('CERTIFICATE'));
    expect(header(r.stdout)).toEqual(header(capture));
    const entries = parseCheckExpiration(r.stdout);
    const table = await pyJson('import kubeadm_certs as c\nresult = [list(x[:3]) for x in c.CERTS]');
    expect(entries.filter((e) => e.kind === 'certificate').map((e) => e.name)).toEqual(table.map((t: string[]) => t[0]));
    for (const [name, kind, rel] of table) {
      const got = entries.find((e) => e.name === name)!.notAfter!;
      // kubeadm prints minutes: the parsed time is the file's notAfter truncated to the minute.
      expect(Math.floor((await notAfterOf(name, kind, rel)).getTime() / 60_000) * 60_000).toBe(got.getTime());
    }
  });

  it('renews every certificate for a year from now, same subject, SANs and CA; the CAs stay', async () => {
    const before = new X509Certificate(await readFile(join(pki(), 'apiserver.crt')));
    const caBefore = await readFile(join(pki(), 'ca.crt'), 'utf8');
    const r = await py(`import kubeadm_certs as c\nstand_in.now = lambda: 0\nprint(c.renew(["all"], ${JSON.stringify(pki())}, ${JSON.stringify(kube())}), end="")`);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(11);
    expect(r.stdout).toContain('certificate for serving the Kubernetes API renewed');
    const after = new X509Certificate(await readFile(join(pki(), 'apiserver.crt')));
    expect(after.serialNumber).not.toBe(before.serialNumber);
    expect(after.subject).toBe(before.subject);
    expect(after.subjectAltName).toBe(before.subjectAltName);
    expect(after.verify(new X509Certificate(caBefore).publicKey)).toBe(true);
    expect(await readFile(join(pki(), 'ca.crt'), 'utf8')).toBe(caBefore);
    const etcdServer = new X509Certificate(await readFile(join(pki(), 'etcd/server.crt')));
    expect(etcdServer.verify(new X509Certificate(await readFile(join(pki(), 'etcd/ca.crt'))).publicKey)).toBe(true);
    const admin = parseYaml(await readFile(join(kube(), 'admin.conf'), 'utf8'));
    const adminCert = new X509Certificate(Buffer.from(admin.users[0].user['client-certificate-data'], 'base64'));
    expect(adminCert.subject).toContain('O=system:masters');
  });

  it('refuses a name kubeadm does not know (exit 2)', async () => {
    const r = await py(`import kubeadm_certs as c\nc.renew(["apiservers"], ${JSON.stringify(pki())}, ${JSON.stringify(kube())})`);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('unknown command "apiservers" for "kubeadm certs renew"');
  });
});
