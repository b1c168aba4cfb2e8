import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHaproxyConfig, type HaproxyInput } from '../../src/render/haproxy.ts';
import { verifyArgv } from '../../src/render/file.ts';
import { UserError } from '../../src/errors.ts';
import { controlPlanes } from './fixtures.ts';
import { makeTestPki } from './test-ca.ts';
import { put, tempDir, tool } from './tools.ts';

const backends = controlPlanes.map((c) => ({ name: c.name, address: c.address }));
const rows: { name: string; input: HaproxyInput }[] = [
  { name: 'vip-tcp-checks', input: { bindAddress: '*', bindPort: 8443, backends } },
  { name: 'lb-hosts-tls-checks', input: { bindAddress: '*', bindPort: 6443, backends, healthCheckCaFile: '/etc/kubernetes/pki/ca.crt' } },
  { name: 'single-control-plane', input: { bindAddress: '10.20.0.100', bindPort: 6443, backends: backends.slice(0, 1) } },
];

describe('renderHaproxyConfig', () => {
  const tmp = tempDir('haproxy');
  let ca = '';
  beforeAll(async () => {
    ca = (await makeTestPki(tmp.dir, ['IP:127.0.0.1'])).caCert;
  });
  afterAll(() => tmp.cleanup());

  it.each(rows)('$name: renders the expected file', async ({ name, input }) => {
    await expect(renderHaproxyConfig(input)[0]!.content).toMatchFileSnapshot(`__snapshots__/haproxy-${name}.cfg`);
  });

  it.each(rows)('$name: haproxy -c accepts it', async ({ name, input }) => {
    // The CA path is swapped for a real file so haproxy can load it; bind * / a foreign VIP are both checked.
    const local = input.healthCheckCaFile ? { ...input, healthCheckCaFile: ca } : input;
    const [file] = renderHaproxyConfig(local);
    const r = await tool(verifyArgv(file!, put(tmp.dir, `${name}.cfg`, file!.content))!);
    expect(r.exitCode, r.output).toBe(0);
    expect(r.output).toMatch(/Configuration file is valid/);
  });

  it('health-checks every control plane, over verified TLS when the cluster CA is given', () => {
    const text = renderHaproxyConfig(rows[1]!.input)[0]!.content;
    for (const c of controlPlanes)
      expect(text).toContain(`server ${c.name} ${c.address}:6443 check check-ssl verify required ca-file /etc/kubernetes/pki/ca.crt`);
    expect(text).toContain('http-check send meth GET uri /readyz');
    expect(text).not.toMatch(/verify none/);
  });

  it('haproxy -c rejects a config whose CA file is missing, so the TLS check is really wired', async () => {
    const [file] = renderHaproxyConfig({ ...rows[1]!.input, healthCheckCaFile: `${tmp.dir}/nope.crt` });
    expect((await tool(verifyArgv(file!, put(tmp.dir, 'missing-ca.cfg', file!.content))!)).exitCode).not.toBe(0);
  });

  it('raises the service\'s file limit above what maxconn needs, so haproxy starts under systemd', async () => {
    const [cfg, dropIn] = renderHaproxyConfig(rows[0]!.input);
    const maxconn = Number(/maxconn (\d+)/.exec(cfg!.content)![1]);
    expect(dropIn!.path).toBe('/etc/systemd/system/haproxy.service.d/10-ferry.conf');
    expect(Number(/LimitNOFILE=(\d+)/.exec(dropIn!.content)![1])).toBeGreaterThan(2 * maxconn + 100);
    await expect(dropIn!.content).toMatchFileSnapshot('__snapshots__/haproxy-dropin.conf');
  });

  it.each([
    ['no backends', { bindAddress: '*', bindPort: 6443, backends: [] }],
    ['a bad port', { bindAddress: '*', bindPort: 70000, backends }],
    ['a name with a space', { bindAddress: '*', bindPort: 6443, backends: [{ name: 'cp 1', address: '10.0.0.1' }] }],
    ['a duplicate backend', { bindAddress: '*', bindPort: 6443, backends: [backends[0]!, backends[0]!] }],
    ['a host name as bind address', { bindAddress: 'api.example', bindPort: 6443, backends }],
  ])('refuses %s', (_n, input) => {
    expect(() => renderHaproxyConfig(input as HaproxyInput)).toThrow(UserError);
  });
});
