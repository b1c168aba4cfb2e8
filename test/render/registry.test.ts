import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { parse } from 'yaml';
import { registryConfigObject, renderRegistry, type RegistryInput } from '../../src/render/registry.ts';
import { UserError } from '../../src/errors.ts';
import { verifyArgv } from '../../src/render/file.ts';
import { freePort, httpsGet, waitFor } from './net.ts';
import { makeTestPki } from './test-ca.ts';
import { put, tempDir, tool } from './tools.ts';

const tls = { certificate: '/etc/ferry/registry/tls.crt', key: '/etc/ferry/registry/tls.key' };
const rows: { name: string; input: RegistryInput }[] = [
  { name: 'default', input: { listen: '10.20.0.11:5000', tls } },
  { name: 'htpasswd-debian-binary', input: { listen: '0.0.0.0:5000', tls, htpasswdPath: '/etc/ferry/registry/htpasswd', binaryPath: '/usr/bin/docker-registry' } },
];

describe('renderRegistry', () => {
  const tmp = tempDir('registry');
  afterAll(() => tmp.cleanup());

  it.each(rows)('$name: renders the expected files', async ({ name, input }) => {
    const text = renderRegistry(input).map((f) => `### ${f.path}\n${f.content}`).join('\n');
    await expect(text).toMatchFileSnapshot(`__snapshots__/registry-${name}.txt`);
  });

  it('disables deletes and serves TLS only', () => {
    const config = parse(renderRegistry(rows[0]!.input)[0]!.content);
    expect(config.storage.delete).toEqual({ enabled: false });
    expect(config.http.tls).toEqual({ ...tls, minimumtls: 'tls1.2' });
    expect(config.auth).toBeUndefined();
  });

  it('systemd-analyze verify accepts the unit', async () => {
    const [, unit] = renderRegistry({ ...rows[1]!.input, configPath: `${tmp.dir}/config.yml` });
    const r = await tool(verifyArgv(unit!, put(tmp.dir, 'ferry-registry.service', unit!.content))!);
    expect(r.exitCode, r.output).toBe(0);
    expect(r.output).not.toMatch(/Unknown key|Unknown section|ignoring/);
  });

  it.each([
    ['a listen address without port', { listen: '10.20.0.11' }],
    ['a relative storage path', { rootDirectory: 'var/lib/registry' }],
  ])('refuses %s', (_n, change) => {
    expect(() => registryConfigObject({ ...rows[0]!.input, ...change })).toThrow(UserError);
  });
});

describe('the rendered registry config, run by Debian\'s docker-registry (distribution 2.8) on loopback', () => {
  const tmp = tempDir('registry-run');
  let ca = '';
  let port = 0;
  let child: ReturnType<typeof execa> | undefined;

  beforeAll(async () => {
    const pki = await makeTestPki(tmp.dir, ['IP:127.0.0.1', 'DNS:registry.ferry.internal']);
    ca = readFileSync(pki.caCert, 'utf8');
    port = await freePort();
    const [config] = renderRegistry({ listen: `127.0.0.1:${port}`, rootDirectory: `${tmp.dir}/data`, tls: { certificate: pki.serverCert, key: pki.serverKey } });
    const path = put(tmp.dir, 'config.yml', config!.content);
    child = execa('docker-registry', ['serve', path], { reject: false, all: true, timeout: 30_000 });
    const up = await waitFor(async () => (await httpsGet(`https://127.0.0.1:${port}/v2/`, ca)).status === 200, 15_000);
    if (!up) throw new Error('docker-registry did not come up');
  }, 30_000);

  afterAll(async () => {
    child?.kill('SIGTERM'); // signals its PID; a no-op if it already exited
    await child;
    tmp.cleanup();
  });

  it('answers the distribution API over TLS verified by the test CA', async () => {
    const r = await httpsGet(`https://127.0.0.1:${port}/v2/`, ca);
    expect(r.status).toBe(200);
    expect(r.headers['docker-distribution-api-version']).toBe('registry/2.0');
  });

  it('refuses deletes', async () => {
    const r = await httpsGet(`https://127.0.0.1:${port}/v2/registry.k8s.io/pause/manifests/sha256:${'0'.repeat(64)}`, ca, 'DELETE');
    expect(r.status).toBe(405);
    expect(r.body).toMatch(/UNSUPPORTED/);
  });

  it('is not trusted without ferry\'s CA', async () => {
    await expect(httpsGet(`https://127.0.0.1:${port}/v2/`, readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8'))).rejects.toThrow(/self.signed|unable to verify|certificate/i);
  });
});
