// The registry phase as observe → plan: a table of observations → steps (one line per step, as a plan prints them),
// a dry run of three fresh replicas (the CA planned once, certificates made and uploaded as admin-side steps, the
// seeding left out, nothing written anywhere), and the plan's admin-side steps applied for real (openssl, three
// replicas at once): one CA, each replica's certificate signed by it, no replica key left on the admin host.
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, rm, stat, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DryRunHost, DryRunPlan } from '../../src/hosts/dry-run.ts';
import { LocalHost } from '../../src/hosts/local.ts';
import { applySteps } from '../../src/phases/apply.ts';
import { localRegistryPhase, planRegistry, RegistryParams, runCa, type RegistryInput, type RegistrySeen } from '../../src/phases/local-registry.ts';
import { newRunState } from '../../src/phases/run-state.ts';
import { runPhases } from '../../src/phases/runner.ts';
import { describeStep, type Step } from '../../src/phases/step.ts';
import { renderedFile } from '../../src/render/file.ts';
import { StateLayout } from '../../src/state/layout.ts';
import { FakeHost } from '../support/fake-host.ts';
import { phaseContext } from '../phases/phase-context.ts';

const layout = new StateLayout('/state/lab');
const CA = layout.registryCaDir;
const ISSUED = layout.registryIssuedDir;
const input = (name = 'cp-1', caDir = CA, issuedDir = ISSUED): RegistryInput => ({
  name, clusterName: 'lab', caDir, issuedDir, sans: [{ type: 'IP', value: '10.20.0.11' }, { type: 'DNS', value: 'registry.ferry.internal' }],
  bundleDir: '/bundle', files: [renderedFile('/etc/ferry/registry/config.yml', 'version: 0.1\n')], replica: '10.20.0.11:5000',
  wait: async () => {}, seed: async () => {},
});
const seen = (over: Partial<RegistrySeen> = {}): RegistrySeen => ({
  ca: { certPem: 'CA', keyMode: '600' }, serviceMatches: true, resolvable: true, binary: 'files/registry/2.8.3/registry', serial: '0x01', ...over,
});

const MAKE_CA = [
  `admin host: install -d -m 0700 ${CA}`,
  `admin host: sh -c umask 077 && exec "$@" sh openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ${CA}/ca.key -out ${CA}/ca.crt -days 3650 -subj /O=ferry/CN=ferry registry CA lab -addext basicConstraints=critical,CA:TRUE,pathlen:0 -addext keyUsage=critical,keyCertSign,cRLSign`,
];
const DEPLOY = [
  `admin host: install -d -m 0700 ${ISSUED}`,
  `admin host: write ${ISSUED}/cp-1.ext`,
  `admin host: sh -c umask 077 && exec "$@" sh openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ${ISSUED}/cp-1.key -out ${ISSUED}/cp-1.csr -subj /O=ferry/CN=cp-1`,
  `admin host: openssl x509 -req -in ${ISSUED}/cp-1.csr -CA ${CA}/ca.crt -CAkey ${CA}/ca.key -set_serial 0x01 -out ${ISSUED}/cp-1.crt -days 825 -sha256 -extfile ${ISSUED}/cp-1.ext`,
  'upload /bundle/files/registry/2.8.3/registry to /usr/local/bin/ferry-registry',
  'install -d -m 0755 /etc/ferry/registry/tls /var/lib/ferry/registry',
  `upload ${CA}/ca.crt to /etc/ferry/registry/ca.crt`,
  `upload ${ISSUED}/cp-1.crt to /etc/ferry/registry/tls/registry.crt`,
  `upload ${ISSUED}/cp-1.key to /etc/ferry/registry/tls/registry.key`,
  `admin host: rm -f ${ISSUED}/cp-1.key ${ISSUED}/cp-1.csr`,
  'write /etc/ferry/registry/config.yml',
  'systemctl daemon-reload',
  'systemctl enable ferry-registry.service',
  'systemctl restart ferry-registry.service',
  'wait until https://10.20.0.11:5000/v2/ answers',
  "seed 10.20.0.11:5000 from the bundle's images and check every manifest resolves there",
];

describe('registry: plan', () => {
  it.each<[string, RegistrySeen, string[]]>([
    ['a fresh site: the CA made, the replica deployed and seeded', seen({ ca: undefined, serviceMatches: false, resolvable: false }), [...MAKE_CA, ...DEPLOY]],
    ['the CA kept, the service not as rendered: deployed again with a new certificate', seen({ serviceMatches: false, resolvable: false }), DEPLOY],
    ['running as rendered but the bundle\'s images not all there (sync): deployed and seeded', seen({ resolvable: false }), DEPLOY],
    ['running, serving the bundle: nothing', seen(), []],
    ['running, serving the bundle, the CA key readable by others: made owner-only again', seen({ ca: { certPem: 'CA', keyMode: '644' } }), [`admin host: chmod 0600 ${CA}/ca.key`]],
  ])('%s', (_, s, want) => {
    expect(planRegistry(s, input()).map(describeStep)).toEqual(want);
  });

  it('makes the CA once per run however many replicas plan it; the replica key goes up owner-only', () => {
    const steps = planRegistry(seen({ ca: undefined, serviceMatches: false }), input());
    expect(steps.slice(0, 2).map((s) => (s as Extract<Step, { kind: 'exec' }>).once)).toEqual(['registry-ca:0', 'registry-ca:1']);
    expect(steps.find((s) => s.kind === 'upload' && s.to.endsWith('registry.key'))).toMatchObject({ mode: 0o600 });
    expect(steps.find((s) => s.kind === 'write' && s.on === 'admin')).toMatchObject({ mode: 0o600 });
    expect(RegistryParams.safeParse({ stateDir: '.ferry' }).success).toBe(false);
  });
});

describe('registry: a dry run of three fresh replicas', () => {
  it('reads the admin host and the replicas, plans the CA once, writes nothing and seeds nothing', async () => {
    const ctx = phaseContext('debian');
    const stateDir = await mkdtemp(join(tmpdir(), 'ferry-registry-dry-'));
    const stateLayout = new StateLayout(join(stateDir, 'state'));
    const plan = new DryRunPlan();
    const admin = new FakeHost('admin host', [{ command: `test -s ${stateLayout.registryCaDir}/ca.crt -a -s ${stateLayout.registryCaDir}/ca.key`, exitCode: 1, readOnly: true, times: 3 }]);
    Object.assign(ctx, { layout: stateLayout, admin: new DryRunHost('admin host', { plan, live: admin }) });
    delete ctx.lock; // the bundle's match with the lock is bundle-check.test.ts's
    const nodes = new Map(['cp-1', 'cp-2', 'cp-3'].map((n) => [n, new FakeHost(n, [{ command: 'systemctl is-active ferry-registry.service', stdout: 'inactive\n', exitCode: 3, readOnly: true }])]));
    const hosts = new Map([...nodes].map(([n, h]) => [n, new DryRunHost(n, { plan, live: h })]));
    const [report] = await runPhases([{ phase: localRegistryPhase, params: RegistryParams.parse({}) }], ctx, { concurrency: 3, dryRun: true, hostFor: (n) => hosts.get(n)! });
    expect(report!.hosts).toEqual({ 'cp-1': 'ran', 'cp-2': 'ran', 'cp-3': 'ran' });
    const onAdmin = plan.entries.filter((e) => e.host === 'admin host');
    expect(onAdmin.filter((e) => e.kind === 'exec' && e.command.includes('openssl req -x509'))).toHaveLength(1);
    expect(onAdmin.filter((e) => e.kind === 'exec' && e.command.includes('openssl x509 -req'))).toHaveLength(3);
    expect(plan.entries.filter((e) => e.kind === 'upload' && e.path === '/etc/ferry/registry/tls/registry.key')).toMatchObject([{ pending: true, mode: 0o600 }, { pending: true }, { pending: true }]);
    expect([...admin.mutating(), ...[...nodes.values()].flatMap((h) => h.mutating())]).toEqual([]);
    expect(await readdir(stateDir)).toEqual([]);
    // registry-mirrors, after it in the same dry run, gets the CA the registry phase only planned.
    expect((await runCa(ctx)).certPem).toBe('');
    await rm(stateDir, { recursive: true, force: true });
  });
});

describe('registry: the admin-side steps applied (real openssl)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-registry-pki-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('three replicas at once: one CA (key 0600), each certificate signed by it, no replica key left behind', async () => {
    const caDir = join(dir, 'registry-ca');
    const issued = join(caDir, 'issued');
    const state = newRunState();
    const admin = new LocalHost('admin host');
    await Promise.all(['cp-1', 'cp-2', 'cp-3'].map(async (name, i) => {
      const node = new FakeHost(name, [{ command: /^(install -d|systemctl )/, times: Infinity }]);
      const steps = planRegistry(seen({ ca: undefined, serviceMatches: false, serial: `0x0${i + 1}` }), input(name, caDir, issued));
      await applySteps(steps, { node, admin, state, addSecret: () => {}, dryRun: true });
      expect(node.uploaded.get('/etc/ferry/registry/tls/registry.key')).toBe(join(issued, `${name}.key`));
    }));
    expect((await stat(join(caDir, 'ca.key'))).mode & 0o777).toBe(0o600);
    const ca = new X509Certificate(await readFile(join(caDir, 'ca.crt')));
    for (const name of ['cp-1', 'cp-2', 'cp-3']) {
      const cert = new X509Certificate(await readFile(join(issued, `${name}.crt`)));
      expect(cert.verify(ca.publicKey)).toBe(true);
      expect(cert.subjectAltName).toContain('IP Address:10.20.0.11');
    }
    expect((await readdir(issued)).filter((f) => f.endsWith('.key') || f.endsWith('.csr'))).toEqual([]);
  });
});
