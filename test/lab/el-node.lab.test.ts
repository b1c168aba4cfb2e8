// EL differences that the fake-host tests (test/phases/el-phases.test.ts) only assert as command lines, run here
// against real dnf and rpm on an EL lab node (src/lab/el/, Rocky 9.4 base set): ferry's own repo file and dnf
// commands (src/phases/os/el.ts) on a repository with a signed and an unsigned package, a package that is already
// installed, EL9's curl-minimal against the curl package, and a package of a module stream (module_hotfixes); on a
// Rocky 8.10 node, EL8's default module streams hiding a bundled package unless module_hotfixes=1.
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

// EL8's AppStream publishes modules with DEFAULT streams (EL9's has none): container-tools' default stream `rhel8`
// holds container-selinux, runc, podman, ... (Rocky 8 AppStream modules.yaml; RHEL 8 "Building, running, and
// managing containers": `container-tools:rhel8` is the default stream; as read in Red Hat's documentation, names of
// the artifacts as remembered). A bundle carries those documents (rpm.ts, modulesYaml), so on an EL8 node a default
// stream nobody enabled still hides a bundled package of the same name unless ferry's repo has module_hotfixes=1.
const EL8_MODULES_YAML = `---
document: modulemd
version: 2
data:
  name: container-tools
  stream: "rhel8"
  version: 8100020240101000000
  context: "20125149"
  arch: x86_64
  summary: Most recent (rolling) versions of podman, buildah, skopeo, runc, conmon, CRIU, Udica, etc
  description: >-
    Stable versions of podman, buildah, skopeo, runc, conmon, CRIU, Udica, etc.
  license:
    module: [MIT]
  profiles:
    common:
      rpms: [container-selinux, podman, runc]
  artifacts:
    rpms:
    - container-selinux-2:2.229.0-2.module+el8.10.0+1815+5fe7415e.noarch
    - runc-1:1.1.12-4.module+el8.10.0+1815+5fe7415e.x86_64
...
---
document: modulemd-defaults
version: 1
data:
  module: container-tools
  stream: rhel8
  profiles:
    rhel8: [common]
...
`;

const run = (argv: string[]) => lab.nodeExec('el1', argv, { allowFailure: true });
const run8 = (argv: string[]) => lab.nodeExec('el8', argv, { allowFailure: true });

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
    // The EL8 node's repo (a directory of its own under the same mount): a bundled container-selinux built outside
    // the module (as Docker's or a site's own build would be), signed, with EL8 AppStream's container-tools documents.
    const el8 = join(repo, 'el8');
    const selinux = await buildRpm({ name: 'container-selinux', epoch: 2, version: '2.229.0', release: '1.el8', arch: 'noarch', summary: 'container-selinux (test)', files: { 'usr/share/ferry-test/container-selinux': { text: 'el8\n', mode: 0o644 } } }, el8);
    await signRpms([join(el8, selinux)], key);
    await writeFile(join(el8, 'test-key.asc'), key.armored);
    await execa('createrepo_c', ['--quiet', el8]);
    await writeFile(join(work, 'modules-el8.yaml'), EL8_MODULES_YAML);
    await execa('modifyrepo_c', ['--mdtype=modules', join(work, 'modules-el8.yaml'), join(el8, 'repodata')]);
  } finally {
    await stopGpgAgent(key.home);
  }
  lab = await startLab({ nodes: ['el1', 'el8'], os: { el1: 'rocky-9.4', el8: 'rocky-8.10' }, debs: repo });
  const file8 = elFamily.repoFile(`${REPO}/el8`, { gpgKeys: ['test-key.asc'] });
  await lab.nodeExec('el8', ['sh', '-c', `mkdir -p /etc/yum.repos.d && cat > ${file8.path}`], { input: file8.content });
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

  it('EL8 (Rocky 8.10 node): a default module stream nobody enabled hides the bundled container-selinux unless ferry\'s repo has module_hotfixes=1', async () => {
    expect((await run8(['sh', '-c', '. /etc/os-release; echo $PLATFORM_ID'])).stdout.trim()).toBe('platform:el8');
    const file = elFamily.repoFile(`${REPO}/el8`, { gpgKeys: ['test-key.asc'] });
    // dnf marks container-tools:rhel8 as the default stream ([d]) from the documents in ferry's repo alone.
    const streams = await run8(['dnf', '-q', '--disablerepo=*', '--enablerepo=ferry', 'module', 'list', 'container-tools']);
    expect(streams.stdout, streams.stderr).toMatch(/container-tools\s+rhel8 \[d\]/);
    await lab.nodeExec('el8', ['sh', '-c', `sed 's/^module_hotfixes=1$/module_hotfixes=0/' ${file.path} > /tmp/x && cat /tmp/x > ${file.path}`]);
    const hidden = await run8(elFamily.install(['container-selinux']).argv);
    expect(hidden.exitCode).not.toBe(0);
    expect(`${hidden.stdout}\n${hidden.stderr}`).toMatch(/filtered out by modular filtering|Unable to find a match: container-selinux|No match for argument: container-selinux/);
    await lab.nodeExec('el8', ['sh', '-c', `cat > ${file.path}`], { input: file.content });
    const r = await run8(elFamily.install(['container-selinux']).argv);
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await run8(['rpm', '-q', 'container-selinux'])).stdout.trim()).toBe('container-selinux-2.229.0-1.el8.noarch');
    // Nothing was enabled: the stream is still only the default one.
    expect((await run8(['sh', '-c', 'cat /etc/dnf/modules.d/container-tools.module 2>/dev/null; true'])).stdout).not.toMatch(/state=enabled/);
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
