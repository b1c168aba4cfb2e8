// Inputs are refused before anything runs: the files an inventory names, the versions it names against the matrix,
// YAML beyond the parser's limits. Through the CLI in-process, so the exit code and the message are what a person sees;
// every inventory here names unreachable addresses (TEST-NET-1), so reaching SSH would show as exit 5, not 2.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadBundleSpec, loadLock } from '../../src/config/inputs.ts';
import { InputError } from '../../src/errors.ts';
import { lockWithoutImages, runFerry } from '../cli/support/run-ferry.ts';

let dir: string;
const inventory = (extra: Record<string, unknown> = {}) => ({
  apiVersion: 'ferry.dev/v1alpha1', kind: 'Cluster', name: 'unit',
  network: { controlPlaneEndpoint: '192.0.2.100:8443' },
  hosts: [{ name: 'cp1', address: '192.0.2.11', roles: ['control-plane'] }],
  ...extra,
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-inputs-'));
  await writeFile(join(dir, 'id_ed25519'), 'not really a key\n');
  await mkdir(join(dir, 'bundle'));
});

async function write(name: string, text: string): Promise<string> {
  await writeFile(join(dir, name), text);
  return join(dir, name);
}

const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]'].join('\n');

describe('files and versions an inventory names', () => {
  const rows: { name: string; extra: Record<string, unknown>; field: string; message: RegExp }[] = [
    { name: 'an identity file that does not exist', extra: { ssh: { identity: './nope_ed25519' } }, field: 'ssh.identity', message: /SSH identity .*nope_ed25519: no such file/ },
    { name: 'a host identity that is a directory', extra: { hosts: [{ name: 'cp1', address: '192.0.2.11', roles: ['control-plane'], ssh: { identity: './bundle' } }] }, field: 'hosts[0].ssh.identity', message: /bundle: not a regular file/ },
    { name: 'a known_hosts file that does not exist', extra: { ssh: { knownHosts: './known_hosts' } }, field: 'ssh.knownHosts', message: /known_hosts .*known_hosts: no such file \(ferry --accept-new-host-keys creates it/ },
    { name: 'a lock that does not exist', extra: { kubernetes: { lock: 'ferry.lock.yaml' } }, field: 'kubernetes.lock', message: /lock .*ferry\.lock\.yaml: no such file/ },
    { name: 'a Kubernetes version the matrix does not know', extra: { kubernetes: { version: '9.99' } }, field: 'kubernetes.version', message: /must be a Kubernetes version/ },
    { name: 'a Kubernetes minor the matrix does not know', extra: { kubernetes: { version: '1.99' } }, field: 'kubernetes.version', message: /Kubernetes 1\.99: the matrix knows 1\.\d+/ },
  ];
  it.each(rows)('doctor and install refuse $name with exit 2, naming file, line and field', async ({ extra, field, message }) => {
    const file = await write(`inv-${field.replace(/[^a-z]/gi, '-')}.yaml`, stringify(inventory(extra)));
    for (const argv of [['doctor', '-i', file], ['install', '-i', file, '--bundle', join(dir, 'bundle'), '--state-dir', join(dir, 'state')]]) {
      const r = await runFerry(...argv);
      expect(r.code, r.err).toBe(2);
      const line = r.err.split('\n').find((l) => l.includes(`: ${field}: `));
      expect(line, r.err).toBeDefined();
      expect(line!.startsWith(`${file}:`)).toBe(true);
      expect(line!.slice(file.length)).toMatch(/^:\d+:\d+: /);
      expect(line).toMatch(message);
    }
  });

  it('accepts a known_hosts file that does not exist yet with --accept-new-host-keys (it is created)', async () => {
    const file = await write('inv-accept.yaml', stringify(inventory({ ssh: { knownHosts: './new_known_hosts', identity: './id_ed25519' }, kubernetes: { version: '1.33' } })));
    const r = await runFerry('install', '-i', file, '--bundle', join(dir, 'bundle'), '--state-dir', join(dir, 'state'), '--accept-new-host-keys', '--only', 'no-such-phase');
    expect(r.err).not.toMatch(/known_hosts|identity|1\.33/);
  });

  it('lists every problem of the file at once: shape, meaning, files', async () => {
    const file = await write('inv-many.yaml', stringify(inventory({ ssh: { identity: './gone' }, network: { controlPlaneEndpoint: '192.0.2.11:99999', podCidr: '10.244.0.0/33' } })));
    const r = await runFerry('doctor', '-i', file);
    expect(r.code).toBe(2);
    for (const field of ['ssh.identity', 'network.controlPlaneEndpoint', 'network.podCidr']) expect(r.err).toContain(`: ${field}: `);
  });

  it('registry commands load the inventory the same way', async () => {
    const file = await write('inv-registry.yaml', stringify(inventory({ ssh: { identity: './gone' } })));
    const r = await runFerry('registry', 'status', '-i', file, '--bundle', join(dir, 'bundle'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/ssh\.identity: SSH identity .*gone: no such file/);
  });
});

describe('YAML beyond the limits is bad input naming the file', () => {
  const rows: { name: string; text: () => string; message: RegExp }[] = [
    { name: 'an alias bomb', text: () => `${bomb}\n`, message: /aliases/ },
    { name: 'nesting 10 000 deep', text: () => `hosts: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`, message: /nested/ },
    { name: 'nesting 100 deep', text: () => `hosts: ${'['.repeat(100)}${']'.repeat(100)}\n`, message: /nested deeper than 64 levels/ },
    { name: 'a 5 MiB file', text: () => `# ${'x'.repeat(5 << 20)}\n`, message: /bytes: larger than the 4194304 an input file may be/ },
  ];
  it.each(rows)('refuses $name in an inventory with exit 2 and no stack trace', async ({ name, text, message }) => {
    const file = await write(`limits-${name.replaceAll(' ', '-')}.yaml`, text());
    const r = await runFerry('doctor', '-i', file);
    expect(r.code).toBe(2);
    expect(r.err).toContain(file);
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(/internal error|\n\s+at /);
  });

  it('refuses an alias bomb in a lock and in a spec', async () => {
    const file = await write('bomb.yaml', `${bomb}\n`);
    await expect(loadLock(file)).rejects.toBeInstanceOf(InputError);
    await expect(loadBundleSpec(file, { cwd: dir })).rejects.toBeInstanceOf(InputError);
    const r = await runFerry('bundle', 'build', '--lock', file, '--spec', file, '--dry-run');
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${file}: refused: aliases expand too much`);
  });
});

describe('the lock and the spec at load', () => {
  it('names a registry password file that does not exist', async () => {
    const spec = await write('spec-pass.yaml', stringify({
      apiVersion: 'ferry.dev/v1alpha1', kind: 'BundleSpec', name: 's',
      registries: { credentials: [{ registry: 'nvcr.io', username: '$oauthtoken', passwordFile: './ngc-key' }] },
    }));
    const error = await loadBundleSpec(spec, { cwd: dir }).catch((e: unknown) => e);
    expect((error as InputError).issues).toEqual([expect.objectContaining({ field: 'registries.credentials[0].passwordFile', message: expect.stringMatching(/password file .*ngc-key: no such file/) })]);
  });

  it('refuses a lock whose Kubernetes minor the matrix does not know', async () => {
    const lock = await write('lock-199.yaml', lockWithoutImages().replace(/kubernetes: 1\.\d+\.\d+/, 'kubernetes: 1.99.0'));
    const error = await loadLock(lock).catch((e: unknown) => e);
    expect((error as InputError).issues).toEqual([expect.objectContaining({ field: 'stack.kubernetes', message: expect.stringMatching(/Kubernetes 1\.99\.0: the matrix knows/) })]);
  });
});
