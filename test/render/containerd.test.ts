import { describe, expect, it } from 'vitest';
import { parse } from 'smol-toml';
import {
  containerdConfigObject,
  containerdConfigVersion,
  pinImageArgv,
  renderContainerdConfig,
  type ContainerdConfigInput,
} from '../../src/render/containerd.ts';
import { UserError } from '../../src/errors.ts';
import { verifyArgv } from '../../src/render/file.ts';
import { put, tempDir, tool } from './tools.ts';

const pause = '10.0.0.11:5000/registry.k8s.io/pause:3.10';

const rows: { name: string; input: ContainerdConfigInput; schema: 2 | 3 }[] = [
  { name: 'containerd-1.7-runc', input: { version: '1.7.24', sandboxImage: pause }, schema: 2 },
  { name: 'containerd-1.6-runc', input: { version: '1.6.36', sandboxImage: pause }, schema: 2 },
  {
    name: 'containerd-1.7-gpu',
    input: { version: '1.7.28', sandboxImage: pause, gpu: { defaultRuntime: true } },
    schema: 2,
  },
  { name: 'containerd-2.1-runc', input: { version: '2.1.5', sandboxImage: pause }, schema: 3 },
  {
    name: 'containerd-2.2-gpu',
    input: { version: '2.2.0', sandboxImage: pause, configPath: '/etc/containerd/certs.d', gpu: { defaultRuntime: false } },
    schema: 3,
  },
];

type Table = Record<string, any>;

/** Asserts the CRI settings ferry relies on, in either schema's layout. */
function expectCriSettings(config: Table, schema: 2 | 3, input: ContainerdConfigInput) {
  // Paths from containerd docs/cri/config.md ("Cgroup Driver", "Full configuration") and docs/hosts.md ("CRI").
  const runtimeTable = schema === 2 ? config.plugins['io.containerd.grpc.v1.cri'].containerd : config.plugins['io.containerd.cri.v1.runtime'].containerd;
  const registry = schema === 2 ? config.plugins['io.containerd.grpc.v1.cri'].registry : config.plugins['io.containerd.cri.v1.images'].registry;
  const sandbox = schema === 2 ? config.plugins['io.containerd.grpc.v1.cri'].sandbox_image : config.plugins['io.containerd.cri.v1.images'].pinned_images.sandbox;
  const names = Object.keys(runtimeTable.runtimes).sort();
  expect(names).toEqual(input.gpu ? ['nvidia', 'runc'] : ['runc']);
  for (const name of names) {
    expect(runtimeTable.runtimes[name].runtime_type).toBe('io.containerd.runc.v2');
    expect(runtimeTable.runtimes[name].options.SystemdCgroup, `${name} SystemdCgroup`).toBe(true);
  }
  if (input.gpu) expect(runtimeTable.runtimes.nvidia.options.BinaryName).toBe('/usr/bin/nvidia-container-runtime');
  expect(runtimeTable.default_runtime_name).toBe(input.gpu?.defaultRuntime ? 'nvidia' : 'runc');
  expect(registry.config_path).toBe('/etc/containerd/certs.d');
  expect(sandbox).toBe(pause);
}

describe('renderContainerdConfig', () => {
  it.each(rows)('$name: renders the expected file', async ({ name, input }) => {
    const file = renderContainerdConfig(input);
    expect(file.path).toBe('/etc/containerd/config.toml');
    expect(file.secrets).toEqual([]);
    await expect(file.content).toMatchFileSnapshot(`__snapshots__/${name}.toml`);
  });

  it.each(rows)('$name: sets the systemd cgroup driver, sandbox image and config_path at the schema-$schema paths', ({ input, schema }) => {
    const config = parse(renderContainerdConfig(input).content) as Table;
    expect(config.version).toBe(schema);
    expectCriSettings(config, schema, input);
    expect(config).toEqual(containerdConfigObject(input));
  });

  it.each(rows.filter((r) => r.schema === 2))('$name: containerd itself reads it back with the same settings', async ({ input }) => {
    // Debian 12's containerd (1.6.20) loads the file and prints the merged config it would run with.
    const { dir, cleanup } = tempDir('containerd');
    try {
      const file = renderContainerdConfig(input);
      const dump = await tool(verifyArgv(file, put(dir, 'config.toml', file.content))!);
      expect(dump.exitCode, dump.output).toBe(0);
      expectCriSettings(parse(dump.output) as Table, 2, input);
    } finally {
      cleanup();
    }
  });

  it('is not validated by containerd 1.x when the schema is 3: 1.6 silently ignores the 2.x plugin ids', async () => {
    // Why version-3 files are checked by parsing (above) instead: containerd 1.6 drops the unknown plugin tables
    // and falls back to SystemdCgroup = false, so its dump proves nothing about a 2.x config.
    const { dir, cleanup } = tempDir('containerd3');
    try {
      const path = put(dir, 'config.toml', renderContainerdConfig(rows[3]!.input).content);
      const dump = await tool(['containerd', '--config', path, 'config', 'dump']);
      expect(dump.exitCode).toBe(0);
      expect((parse(dump.output) as Table).plugins['io.containerd.grpc.v1.cri'].containerd.runtimes.runc.options.SystemdCgroup).toBe(false);
    } finally {
      cleanup();
    }
  });

  it.each([
    ['1.7.24', 2],
    ['v1.6.36', 2],
    ['2.0.6', 3],
    ['2.3.0', 3],
  ] as const)('picks config version for containerd %s', (version, schema) => {
    expect(containerdConfigVersion(version)).toBe(schema);
  });

  it.each(['1.5.18', '3.0.0', 'latest'])('refuses containerd %s', (version) => {
    expect(() => containerdConfigVersion(version)).toThrow(UserError);
  });

  it('pins an image with the CRI pinned label in the k8s.io namespace', () => {
    expect(pinImageArgv(pause)).toEqual(['ctr', '--namespace', 'k8s.io', 'images', 'label', pause, 'io.cri-containerd.pinned=pinned']);
  });
});
