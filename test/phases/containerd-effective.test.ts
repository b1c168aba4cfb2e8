// The readback after container-runtime: real `containerd config dump` outputs (fixtures/containerd/README.md).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
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
