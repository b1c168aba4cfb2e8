import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryIo } from '../../src/cli/io.ts';
import { run } from '../../src/cli/program.ts';

async function ferry(...argv: string[]) {
  const io = memoryIo();
  const code = await run(argv, { io, now: () => new Date(), cwd: process.cwd(), env: {} });
  return { code, out: io.out(), err: io.err() };
}

describe('ferry doctor: input errors exit 2', () => {
  it('needs an inventory or --local', async () => {
    const r = await ferry('doctor');
    expect(r.code).toBe(2);
    expect(r.err).toContain('doctor needs -i/--inventory FILE or --local');
  });
  it('refuses unknown check ids and lists the known ones', async () => {
    const r = await ferry('doctor', '--local', '--only', 'ipip,no-such-check');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--only: unknown check id(s): no-such-check');
    expect(r.err).toContain('cgroup-driver');
  });
  it('refuses an unknown --pairs mode and names the two it knows', async () => {
    const r = await ferry('doctor', '--local', '--pairs', 'some');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--pairs: unknown mode "some"');
    expect(r.err).toContain('rack (every pair within a rack or subnet');
  });
  it('names file, line, column and field of a bad inventory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-doctor-'));
    const file = join(dir, 'cluster.yaml');
    writeFileSync(file, 'apiVersion: ferry.dev/v1alpha1\nkind: Cluster\nname: lab\nnetwork:\n  controlPlaneEndpoint: 10.0.0.1\nhosts:\n  - { name: cp-1, address: 10.0.0.11, roles: [control-plane] }\n');
    const r = await ferry('doctor', '-i', file);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${file}:5:25: network.controlPlaneEndpoint: must be HOST:PORT`);
  });
});

describe('ferry doctor --local (this machine, for real)', () => {
  it('prints a JSON report whose verdicts match the machine and whose exit code matches its findings', async () => {
    const r = await ferry('doctor', '--local', '--json');
    const report = JSON.parse(r.out);
    expect(report.hosts).toHaveLength(1);
    expect(report.hosts[0].reachable).toBe(true);
    expect(r.code).toBe(report.summary.fail > 0 ? 4 : 0);
    const forward = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
    const finding = report.findings.find((f: { check: string }) => f.check === 'ip-forward');
    expect(finding.status).toBe(forward === '1' ? 'pass' : 'fail');
  });
  it('writes the JSON report to --out while printing the table', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'ferry-doctor-')), 'doctor.json');
    const r = await ferry('doctor', '--local', '--only', 'swap', '--out', out);
    expect(r.out).toContain('summary:');
    const saved = JSON.parse(readFileSync(out, 'utf8'));
    expect(saved.findings.map((f: { check: string }) => f.check)).toEqual(['swap']);
    expect(saved.recommendation.encapsulation).toBe('vxlan');
    const html = readFileSync(out.replace(/\.json$/, '.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('No node pair was probed');
  });
  it.each([
    ['report.json', 'report.html'],
    ['out/doctor', 'out/doctor.html'],
  ])('writes the page for --out %s to %s', async (json, page) => {
    const { htmlBeside } = await import('../../src/cli/doctor.ts');
    expect(htmlBeside(json)).toBe(page);
  });
  it('runs only the selected checks and prints the table', async () => {
    const r = await ferry('doctor', '--local', '--only', 'swap,kernel-keyring');
    expect(r.out).toMatch(/  (PASS|FAIL)  swap /);
    expect(r.out).toMatch(/  (PASS|FAIL)  kernel-keyring /);
    expect(r.out).not.toContain('iptables-backend');
    expect(r.out).toMatch(/summary: \d+ pass, \d+ warn, \d+ fail, 0 unreachable → exit [04]/);
  });
});

describe('ferry doctor --bundle', () => {
  it('sizes the disk-headroom check from the bundle’s image blobs (three times their size once loaded)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-bundle-'));
    mkdirSync(join(dir, 'images', 'blobs', 'sha256'), { recursive: true });
    writeFileSync(join(dir, 'images', 'blobs', 'sha256', 'a'.repeat(64)), Buffer.alloc(1024 * 1024));
    const r = await ferry('doctor', '--local', '--only', 'disk-headroom', '--bundle', dir);
    expect(r.out).toMatch(/disk-headroom\s+\/var\/lib\/containerd on \S+: 0\.0 GiB of images would bring it to \d+%/);
  });
  it('refuses a directory that is not a bundle', async () => {
    const r = await ferry('doctor', '--local', '--bundle', tmpdir());
    expect(r.code).toBe(2);
    expect(r.err).toContain('no images/blobs/sha256 in it');
  });
});
