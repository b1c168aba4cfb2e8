// The readback after container-runtime: real `containerd config dump` outputs (fixtures/containerd/README.md), and
// container-runtime's plan from tables of what it saw, its refusal of a containerd that does not run as the lock says.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { planRuntime, runtimeProblems, type RuntimeReadback, type RuntimeSeen } from '../../src/phases/container-runtime.ts';
import { debianFamily } from '../../src/phases/os/debian.ts';
import { describeStep } from '../../src/phases/step.ts';
import { expectationOf, judgeEffectiveConfig, parseContainerdVersion, parseRuncVersion } from '../../src/phases/containerd-effective.ts';
import { renderContainerdConfig } from '../../src/render/containerd.ts';

const dump = (name: string) => readFileSync(new URL(`./fixtures/containerd/${name}.toml`, import.meta.url), 'utf8');
const SANDBOX = 'registry.ferry.internal:5000/registry.k8s.io/pause:3.10';
const want = (version: string) => expectationOf(renderContainerdConfig({ version, sandboxImage: SANDBOX }).content);

describe('containerd and runc versions', () => {
  it.each([
    ['containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3', '1.6.20'],
    ['containerd github.com/containerd/containerd/v2 2.1.9+unknown ', '2.1.9'],
    ['containerd containerd.io 1.7.27 05044ec0a9a75232cad458027ca83437aae3f4da', '1.7.27'],
    ['containerd github.com/containerd/containerd/v2 v2.0.8 8c4b1b7c', '2.0.8'],
    ['', undefined],
  ])('%j → %s', (out, v) => expect(parseContainerdVersion(out)).toBe(v));
  it.each([
    ['runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev\ngo: go1.19.8\nlibseccomp: 2.5.4\n', '1.1.5'],
    ['runc version 1.3.3\ncommit: v1.3.3-0-gd842d771\n', '1.3.3'],
    ['bash: runc: command not found', undefined],
  ])('%j → %s', (out, v) => expect(parseRuncVersion(out)).toBe(v));
});

describe('judgeEffectiveConfig', () => {
  it('finds nothing wrong when containerd loaded what ferry wrote for its version (1.6 and 2.1)', () => {
    expect(judgeEffectiveConfig(dump('dump-1.6.20-ferry'), want('1.6.20'))).toEqual([]);
    expect(judgeEffectiveConfig(dump('dump-2.1.9-ferry'), want('2.1.9'))).toEqual([]);
  });

  it('catches containerd 1.6 running a config written for 2.x: cgroupfs and the upstream pause image', () => {
    expect(judgeEffectiveConfig(dump('dump-1.6.20-reads-2x'), want('2.1.9'))).toEqual([
      `the sandbox image is "registry.k8s.io/pause:3.6", not ${SANDBOX} from the local registry`,
      'runtime runc runs with SystemdCgroup = false: kubelet uses the systemd cgroup driver',
    ]);
  });

  it("catches containerd.io's shipped config (CRI disabled)", () => {
    expect(judgeEffectiveConfig(dump('dump-2.1.9-docker-default'), want('2.1.9'))).toEqual([
      'the CRI plugin is disabled (disabled_plugins), as the containerd.io package ships it: kubelet cannot talk to containerd',
    ]);
  });

  it('wants the nvidia runtime on the systemd driver too on a GPU node', () => {
    const gpu = expectationOf(renderContainerdConfig({ version: '2.1.9', sandboxImage: SANDBOX, gpu: { defaultRuntime: true } }).content);
    expect(gpu.runtimes).toEqual(['runc', 'nvidia']);
    expect(judgeEffectiveConfig(dump('dump-2.1.9-ferry'), gpu)).toEqual(['runtime nvidia runs with SystemdCgroup = null: kubelet uses the systemd cgroup driver']);
  });

  it('says so when the dump is not TOML', () => expect(judgeEffectiveConfig('ctr: failed to dial', want('2.1.9'))[0]).toMatch(/^containerd config dump printed no readable TOML/));
});

describe('container-runtime plan', () => {
  const LOCK = { cri: { name: 'containerd' as const, version: '1.7.28' }, runc: '1.3.0' };
  const config = renderContainerdConfig({ version: '1.7.28', sandboxImage: SANDBOX });
  const good: RuntimeReadback = {
    answers: true, ctrOutput: '', containerdVersion: 'containerd containerd.io 1.7.28 b98a3aace656320842a23f4a392a33f46af97866\n',
    runcVersion: 'runc version 1.3.0\ncommit: v1.3.0-0-g4ca628d1\n', dump: dump('dump-1.6.20-ferry'),
  };
  const seen = (over: Partial<RuntimeSeen>): RuntimeSeen => ({
    node: 'cp-1', family: debianFamily, packages: ['containerd.io'], missing: [], active: true, enabled: true, config, changed: [], readback: good, ...over,
  });
  const INSTALL = 'apt-get -q -y -o Dir::Etc::sourcelist=/etc/apt/sources.list.d/ferry.list -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 install --no-install-recommends containerd.io';

  it.each<{ name: string; seen: RuntimeSeen; steps: string[] }>([
    { name: 'a fresh node: packages, config, enable, restart', seen: seen({ missing: ['containerd.io'], active: false, enabled: false, changed: [config] }), steps: [INSTALL, 'place /etc/containerd/config.toml', 'systemctl enable containerd', 'systemctl restart containerd'] },
    { name: 'another config: placed, and a restart', seen: seen({ changed: [config] }), steps: ['place /etc/containerd/config.toml', 'systemctl restart containerd'] },
    { name: 'stopped: a restart', seen: seen({ active: false, readback: undefined }), steps: ['systemctl restart containerd'] },
    { name: 'disabled: enabled, no restart', seen: seen({ enabled: false }), steps: ['systemctl enable containerd'] },
    { name: 'a package missing while the daemon runs with the config: installed, no restart', seen: seen({ missing: ['containerd.io'] }), steps: [INSTALL] },
    { name: 'running as the lock says: nothing', seen: seen({}), steps: [] },
    { name: 'still changing: the readback is not judged yet', seen: seen({ changed: [config], readback: { ...good, dump: dump('dump-1.6.20-reads-2x') } }), steps: ['place /etc/containerd/config.toml', 'systemctl restart containerd'] },
  ])('$name', ({ seen: s, steps }) => {
    expect(planRuntime(s, LOCK).map(describeStep)).toEqual(steps);
  });

  it.each<{ name: string; readback: RuntimeReadback; problems: string[] }>([
    {
      name: 'a containerd 1.6 reading a file written for 2.x',
      readback: { ...good, containerdVersion: 'containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3\n', dump: dump('dump-1.6.20-reads-2x') },
      problems: [
        'containerd 1.6.20 is installed, the lock says 1.7.28',
        `the sandbox image is "registry.k8s.io/pause:3.6", not ${SANDBOX} from the local registry`,
        'runtime runc runs with SystemdCgroup = false: kubelet uses the systemd cgroup driver',
      ],
    },
    { name: "another runc", readback: { ...good, runcVersion: 'runc version 1.1.5+ds1\n' }, problems: ['runc 1.1.5 is installed, the lock says 1.3.0'] },
    { name: 'a daemon that does not answer', readback: { ...good, answers: false, ctrOutput: 'ctr: failed to dial "/run/containerd/containerd.sock": context deadline exceeded\n' }, problems: ['containerd does not answer on its socket (ctr version: ctr: failed to dial "/run/containerd/containerd.sock": context deadline exceeded)'] },
  ])('refuses $name, naming the node', ({ readback, problems }) => {
    expect(runtimeProblems(readback, LOCK, config)).toEqual(problems);
    expect(() => planRuntime(seen({ readback }), LOCK)).toThrow(`cp-1: containerd does not run as the lock says:\n    ${problems.join('\n    ')}`);
  });

  it('judges nothing without a lock or a readback', () => {
    const bad = { ...good, answers: false };
    expect(planRuntime(seen({ readback: bad }), undefined)).toEqual([]);
    expect(planRuntime(seen({ readback: undefined }), LOCK)).toEqual([]);
  });
});
