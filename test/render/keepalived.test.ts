import { afterAll, describe, expect, it } from 'vitest';
import { keepalivedPriority, renderKeepalived, type KeepalivedInput } from '../../src/render/keepalived.ts';
import { UserError } from '../../src/errors.ts';
import { redact } from '../../src/hosts/redact.ts';
import { verifyArgv } from '../../src/render/file.ts';
import { shellJoin } from '../../src/hosts/shell.ts';
import { controlPlanes, vip } from './fixtures.ts';
import { put, tempDir, tool } from './tools.ts';

// A test-only VRRP password, generated per run so no literal secret sits in the repo.
const authPass = Math.random().toString(36).slice(2, 10);
const base = { peers: controlPlanes, interface: 'eth0', vip, virtualRouterId: 51, authPass, apiPort: 8443 };
const rows: { name: string; input: KeepalivedInput }[] = [
  ...controlPlanes.map((c) => ({ name: c.name, input: { ...base, self: c } })),
  // A single balancer: no peers, so no unicast block (keepalived -t rejects an empty one).
  { name: 'alone', input: { ...base, peers: controlPlanes.slice(0, 1), self: controlPlanes[0]! } },
];

/** keepalived -t inside a private network namespace, where a veth named after the config's interface exists. */
async function configTest(dir: string, input: KeepalivedInput) {
  const [conf, script] = renderKeepalived({ ...input, interface: 'ferryka0', checkScriptPath: `${dir}/check.sh` });
  put(dir, 'check.sh', script!.content, 0o755);
  const check = shellJoin(verifyArgv(conf!, put(dir, 'keepalived.conf', conf!.content, 0o600))!);
  return tool(['unshare', '--net', 'sh', '-c', `ip link add ferryka0 type veth peer name ferryka1 && exec ${check}`]);
}

describe('renderKeepalived', () => {
  const tmp = tempDir('keepalived');
  afterAll(() => tmp.cleanup());

  it.each(rows)('$name: renders the expected files (password redacted)', async ({ name, input }) => {
    const files = renderKeepalived(input);
    const text = files.map((f) => `### ${f.path} (mode ${f.mode.toString(8)})\n${redact(f.content, f.secrets)}`).join('\n');
    expect(text).not.toContain(authPass);
    await expect(text).toMatchFileSnapshot(`__snapshots__/keepalived-${name}.txt`);
  });

  it.each(rows)('$name: keepalived -t accepts it', async ({ input }) => {
    const r = await configTest(tmp.dir, input);
    expect(r.exitCode, r.output).toBe(0);
  });

  it('keepalived -t rejects a config for an interface that does not exist, so the check can fail', async () => {
    const [conf] = renderKeepalived({ ...base, self: controlPlanes[0]!, checkScriptPath: `${tmp.dir}/check.sh` });
    const r = await tool(['unshare', '--net', ...verifyArgv(conf!, put(tmp.dir, 'bad.conf', conf!.content))!]);
    expect(r.exitCode).not.toBe(0);
  });

  it('lists the password as the config\'s secret and keeps the file owner-only', () => {
    const [conf, script] = renderKeepalived(rows[0]!.input);
    expect(conf!.secrets).toEqual([authPass]);
    expect(conf!.mode).toBe(0o600);
    expect(script!.secrets).toEqual([]);
    expect(script!.content).not.toMatch(/--insecure|\s-k\s/);
  });

  it('peers with every other balancer by unicast, and ranks any healthy host above every unhealthy one', () => {
    const [conf] = renderKeepalived(rows[1]!.input);
    expect(conf!.content).toMatch(/unicast_src_ip 10\.20\.0\.12\n\s+unicast_peer \{\n\s+10\.20\.0\.11\n\s+10\.20\.0\.13\n\s+\}/);
    const priorities = controlPlanes.map((c) => keepalivedPriority(controlPlanes, c.name));
    expect(priorities).toEqual([200, 199, 198]);
    expect(Math.min(...priorities) - 100).toBeGreaterThan(0);
    expect(Math.max(...priorities) - 100).toBeLessThan(Math.min(...priorities));
  });

  it.each([
    ['a long password', { authPass: '123456789' }],
    ['a password with a quote', { authPass: 'ab"c' }],
    ['a VIP that is a node', { vip: '10.20.0.11' }],
    ['a host name as VIP', { vip: 'api.example' }],
    ['router id 0', { virtualRouterId: 0 }],
    ['a host outside the peers', { self: { name: 'w-1', address: '10.20.0.50' } }],
  ])('refuses %s', (_n, change) => {
    expect(() => renderKeepalived({ ...rows[0]!.input, ...change } as KeepalivedInput)).toThrow(UserError);
  });
});
