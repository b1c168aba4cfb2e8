// EL differences that the fake-host tests (test/phases/el-phases.test.ts) only assert as command lines, run here
// against real dnf and rpm on an EL lab node (src/lab/el/, Rocky 9.4 base set): ferry's own repo file and dnf
// commands (src/phases/os/el.ts) on a repository with a signed and an unsigned package, a package that is already
// installed, EL9's curl-minimal against the curl package, and a package of a module stream (module_hotfixes).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDnfProblems } from '../../src/bundle/sources/rpm-plan.ts';
import { elFamily } from '../../src/phases/os/el.ts';
import { parseInstalled } from '../../src/phases/os/pick.ts';
import { makeSigningKey, stopGpgAgent } from '../../src/replica/apt-repo.ts';
import { buildRpm, signRpms } from '../../src/replica/rpm-builder.ts';
import { startLab, type Lab } from './lab.ts';

let lab: Lab;
let work: string;
/** Where the repo is on the node (the lab's read-only /debs mount). */
const REPO = '/debs';

// modulemd v2, as EL's AppStream publishes a stream (the bundle build carries these documents: rpm.ts, modulesYaml).
const MODULES_YAML = `---
document: modulemd
version: 2
data:
  name: ferry-mod
  stream: "1"
  version: 9040020240101000000
  context: 9edba152
  arch: x86_64
  summary: a module stream for the test
  description: >-
    Holds ferry-modular; the stream is not enabled.
  license:
    module: [MIT]
  artifacts:
    rpms:
    - ferry-modular-0:1.0-1.el9.x86_64
...
`;

const run = (argv: string[]) => lab.nodeExec('el1', argv, { allowFailure: true });

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ferry-el-node-'));
  const repo = join(work, 'repo');
  await mkdir(repo);
  const key = await makeSigningKey(join(work, 'g'), 'ferry EL node test <test@ferry.invalid>');
  try {
    const pkg = (name: string, extra: object = {}) => buildRpm({ name, version: '1.0', release: '1.el9', summary: name, files: { [`usr/share/${name}/README`]: { text: `${name}\n`, mode: 0o644 } }, ...extra }, repo);
    const signed = await pkg('ferry-signed');
    await pkg('ferry-unsigned');
    // EL9's curl package beside the curl-minimal the base set has: they conflict, as in Rocky's BaseOS.
    const curl = await buildRpm({ name: 'curl', version: '7.76.1', release: '29.el9_4', summary: 'curl', conflicts: ['curl-minimal'], files: { 'usr/share/ferry-test/curl': { text: 'curl\n', mode: 0o644 } } }, repo);
    await signRpms([join(repo, signed), join(repo, curl)], key);
    // A package that belongs to a module stream no one enabled (as EL's AppStream modules are), signed too.
    const modular = await pkg('ferry-modular');
    await signRpms([join(repo, modular)], key);
    // Two builds of a held package (kubectl): the bundle's, and a later one a `dnf update` must not take.
    const held = await Promise.all(['1.0', '2.0'].map((version) => buildRpm({ name: 'kubectl', version, release: '1.el9', summary: 'kubectl (test)', files: { 'usr/share/ferry-test/kubectl': { text: `${version}\n`, mode: 0o644 } } }, repo)));
    await signRpms(held.map((f) => join(repo, f)), key);
    await writeFile(join(repo, 'test-key.asc'), key.armored);
    await execa('createrepo_c', ['--quiet', repo]);
    await writeFile(join(work, 'modules.yaml'), MODULES_YAML);
    await execa('modifyrepo_c', ['--mdtype=modules', join(work, 'modules.yaml'), join(repo, 'repodata')]);
  } finally {
    await stopGpgAgent(key.home);
  }
  lab = await startLab({ nodes: ['el1'], os: { el1: 'rocky-9.4' }, debs: repo });
  // ferry's own repo file for a bundle that carries its key (gpgcheck=1), placed as local-repo places it.
  const file = elFamily.repoFile(REPO, { gpgKeys: ['test-key.asc'] });
  await lab.nodeExec('el1', ['sh', '-c', `mkdir -p /etc/yum.repos.d && cat > ${file.path}`], { input: file.content });
}, 600_000);

afterAll(async () => {
  await lab?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('ferry\'s EL commands against real dnf and rpm on an EL lab node', () => {
  it('installs a signed package with gpgcheck=1, importing the key the repo file names', async () => {
    expect((await run(elFamily.refresh().argv)).exitCode).toBe(0);
    const r = await run(elFamily.install(['ferry-signed']).argv);
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await run(['rpm', '-q', 'ferry-signed'])).stdout.trim()).toBe('ferry-signed-1.0-1.el9.x86_64');
    expect((await run(['rpm', '-q', 'gpg-pubkey'])).exitCode).toBe(0);
  });

  it('refuses an unsigned package with gpgcheck=1, and the build\'s parser reads it as a signature problem', async () => {
    const r = await run(elFamily.install(['ferry-unsigned']).argv);
    expect(r.exitCode).not.toBe(0);
    const problems = parseDnfProblems(`${r.stdout}\n${r.stderr}`);
    expect(problems.signature, `${r.stdout}\n${r.stderr}`).not.toEqual([]);
    expect((await run(['rpm', '-q', 'ferry-unsigned'])).exitCode).not.toBe(0);
  });

  it('exits 0 when the package is already installed (nothing to do)', async () => {
    const installedAt = (await run(['rpm', '-q', '--qf', '%{INSTALLTIME}', 'ferry-signed'])).stdout;
    const r = await run(elFamily.install(['ferry-signed']).argv);
    // dnf 4.14 with -q says nothing and exits 0; the package was not touched.
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await run(['rpm', '-q', '--qf', '%{INSTALLTIME}', 'ferry-signed'])).stdout).toBe(installedAt);
    const loud = await run(elFamily.install(['ferry-signed']).argv.filter((a) => a !== '-q'));
    expect(loud.exitCode).toBe(0);
    expect(`${loud.stdout}${loud.stderr}`).toMatch(/already installed/);
  });

  it('counts curl as installed through curl-minimal, while dnf refuses the curl package beside it', async () => {
    const installed = parseInstalled((await run(elFamily.listInstalled())).stdout);
    expect(installed.has('curl-minimal')).toBe(true);
    expect(installed.has('curl')).toBe(true);
    const r = await run(elFamily.install(['curl-7.76.1-29.el9_4']).argv);
    expect(r.exitCode).not.toBe(0);
    expect(`${r.stdout}\n${r.stderr}`).toMatch(/conflicts with curl-minimal|curl-minimal/);
  });

  it('installs a package of a module stream no one enabled only thanks to module_hotfixes=1 in ferry\'s repo file', async () => {
    const file = elFamily.repoFile(REPO, { gpgKeys: ['test-key.asc'] });
    expect(file.content).toContain('module_hotfixes=1');
    // Without it, dnf's modular filtering hides the package (what EL8/EL9 AppStream modules do to a bundled package).
    await lab.nodeExec('el1', ['sh', '-c', `sed 's/^module_hotfixes=1$/module_hotfixes=0/' ${file.path} > /tmp/x && cat /tmp/x > ${file.path}`]);
    const hidden = await run(elFamily.install(['ferry-modular']).argv);
    expect(hidden.exitCode).not.toBe(0);
    expect(`${hidden.stdout}\n${hidden.stderr}`).toMatch(/Unable to find a match: ferry-modular|No match for argument: ferry-modular|filtered out by modular filtering/);
    await lab.nodeExec('el1', ['sh', '-c', `cat > ${file.path}`], { input: file.content });
    const r = await run(elFamily.install(['ferry-modular']).argv);
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await run(['rpm', '-q', 'ferry-modular'])).stdout.trim()).toBe('ferry-modular-1.0-1.el9.x86_64');
    expect((await run(elFamily.remove(['ferry-modular']).argv)).exitCode).toBe(0);
  });

  it('holds the Kubernetes packages: ferry installs the exact build, a later dnf update leaves it, dnf sees no upgrade', async () => {
    const r = await run(elFamily.install(['kubectl-1.0-1.el9']).argv);
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await run(['rpm', '-q', 'kubectl'])).stdout.trim()).toBe('kubectl-1.0-1.el9.x86_64');
    // What a site's admin would run later, with ferry's repo enabled: the repo file's exclude= keeps kubectl.
    const update = await run(['dnf', '-y', '-q', '--disablerepo=*', '--enablerepo=ferry', 'update']);
    expect(update.exitCode, update.stderr).toBe(0);
    expect((await run(['rpm', '-q', 'kubectl'])).stdout.trim()).toBe('kubectl-1.0-1.el9.x86_64');
    const upgrades = await run(['dnf', '-q', '--disablerepo=*', '--enablerepo=ferry', 'list', '--upgrades']);
    expect(upgrades.stdout).not.toMatch(/kubectl/);
    // Without the hold dnf would offer 2.0: the exclusion, not an empty repo, is what keeps it.
    const lifted = await run(['dnf', '-q', '--disablerepo=*', '--enablerepo=ferry', '--disableexcludes=ferry', 'list', '--upgrades']);
    expect(lifted.stdout).toMatch(/kubectl\.x86_64\s+2\.0-1\.el9/);
    expect((await run(elFamily.remove(['kubectl']).argv)).exitCode).toBe(0);
  });

  it('lists the key dnf imported by its rpm name and removes it with the package, as reset does', async () => {
    const installed = [...parseInstalled((await run(elFamily.listInstalled())).stdout)];
    const keys = installed.filter((n) => n.startsWith('gpg-pubkey-'));
    expect(keys).toHaveLength(1);
    const r = await run(elFamily.remove(['ferry-signed', ...keys]).argv);
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await run(['rpm', '-q', 'ferry-signed'])).exitCode).not.toBe(0);
    expect((await run(['rpm', '-q', 'gpg-pubkey'])).exitCode).not.toBe(0);
  });
});
