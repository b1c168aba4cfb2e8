import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { memoryIo } from '../../src/cli/io.ts';
import { run } from '../../src/cli/program.ts';
import { Lock } from '../../src/config/lock.ts';
import { DEFAULT_MATRIX_DIR } from '../../src/matrix/load.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-resolve-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function ferry(...argv: string[]) {
  const io = memoryIo();
  const code = await run(argv, { io, now: () => new Date('2026-12-07T09:30:00Z'), cwd: dir, env: {} });
  return { code, out: io.out(), err: io.err() };
}

describe('ferry resolve', () => {
  it('prints the stack with one reason per component and exits 0 (issue example 1)', async () => {
    const r = await ferry('resolve', '--os', 'rocky-9.4', '--gpu', 'h100', '--k8s', '1.33');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^kubernetes\s+1\.33\.13\s+pinned to 1\.33/m);
    expect(r.out).toMatch(/^containerd\s+2\.0\.11\s+/m);
    expect(r.out).toMatch(/^nvidia-driver\s+620\.70\.06\s+R620 LTSB/m);
    expect(r.out).toMatch(/Warnings:\n {2}- Rocky Linux 9\.4 is end-of-life since 2024-11-19; move the nodes to a supported release\n {2}- Kubernetes 1\.33 is end-of-life since 2026-06-28/);
    expect(r.err).toBe('');
  });

  it('refuses a CRI-O stack, which ferry cannot install yet, and writes no lock', async () => {
    const r = await ferry('resolve', '--os', 'rhel-8.10', '--gpu', 'v100', '--cri', 'cri-o', '--k8s', '1.33', '--out', 'crio.lock.yaml');
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/ferry cannot install CRI-O yet \(the lock asks for cri-o 1\.33\.13\): its install phases set up containerd only \[ferry-installs-containerd\]/);
    await expect(readFile(join(dir, 'crio.lock.yaml'))).rejects.toThrow(/ENOENT/);
  });

  it('writes a lock that parses with the Lock schema (issue example 2)', async () => {
    const r = await ferry('resolve', '--os', 'rhel-8.10', '--gpu', 'v100', '--k8s', '1.33', '--out', 'ferry.lock.yaml');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/wrote ferry\.lock\.yaml/);
    const lock = Lock.parse(parse(await readFile(join(dir, 'ferry.lock.yaml'), 'utf8')));
    expect(lock.resolvedAt).toBe('2026-12-07T09:30:00.000Z');
    expect(lock.matrixReadAt).toBe('2026-12-07');
    expect(lock.decisions.every((d) => /^\d{4}-\d{2}-\d{2}$/.test(d.factsRead ?? ''))).toBe(true);
    expect(lock.stack.cri.name).toBe('containerd');
    expect(lock.stack.nvidiaDriver).toEqual({ branch: '580', version: '580.126.18', kernelModule: 'proprietary' });
    expect(lock.matrixDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(lock.images.filter((i) => i.critical).map((i) => i.ref)).toEqual([
      'registry.k8s.io/kube-proxy:v1.33.13',
      'registry.k8s.io/pause:3.10',
      'registry.k8s.io/coredns/coredns:v1.12.0',
      'quay.io/calico/node:v3.31.7',
      'quay.io/calico/cni:v3.31.7',
      'quay.io/calico/kube-controllers:v3.31.7',
      'nvcr.io/nvidia/k8s-device-plugin:v0.18.2',
    ]);
  });

  it('prints the documented JSON shape (issue example 3)', async () => {
    const r = await ferry('resolve', '--os', 'ubuntu-24.04', '--gpu', 'b200', '--pin', 'nvidia-driver=580', '--json');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(Object.keys(json)).toEqual(['ok', 'stack', 'decisions', 'hostChanges', 'warnings']);
    expect(json.ok).toBe(true);
    expect(Object.keys(json.stack)).toEqual(['os', 'kernel', 'cgroup', 'kubernetes', 'cri', 'runc', 'nvidiaDriver', 'cni']);
    expect(json.stack.nvidiaDriver).toEqual({ branch: '580', version: '580.126.18', kernelModule: 'open' });
    for (const d of json.decisions) expect(Object.keys(d)).toEqual(['component', 'version', 'rules', 'why', 'factsRead']);
  });

  it('reads the target OS from a node\'s /etc/os-release (AlmaLinux writes ID=almalinux)', async () => {
    await writeFile(join(dir, 'os-release'), 'NAME="AlmaLinux"\nVERSION="9.6 (Sage Margay)"\nID="almalinux"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.6"\n');
    const r = await ferry('resolve', '--os-release', 'os-release', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).stack.os).toEqual({ id: 'alma', version: '9.6', family: 'el', arch: 'amd64' });
    const typed = await ferry('resolve', '--os', 'almalinux-9.6', '--json');
    expect(JSON.parse(typed.out).stack).toEqual(JSON.parse(r.out).stack);
  });

  it('resolves for several OS releases at once (--os repeated, --os-release too) and writes every OS into the lock', async () => {
    await writeFile(join(dir, 'os-release'), 'NAME="AlmaLinux"\nID="almalinux"\nVERSION_ID="9.6"\n');
    const r = await ferry('resolve', '--os', 'rocky-9.4', '--os', 'debian-12', '--os-release', 'os-release', '--k8s', '1.33', '--out', 'mixed.lock.yaml');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^ferry resolve: rocky-9\.4 \+ debian-12 \+ alma-9\.6 /);
    const lock = parse(await readFile(join(dir, 'mixed.lock.yaml'), 'utf8'));
    expect(lock.stack.os).toEqual({ id: 'rocky', version: '9.4', family: 'el', arch: 'amd64' });
    expect(lock.stack.alsoOs.map((o: { os: { id: string } }) => o.os.id)).toEqual(['debian', 'alma']);
    expect(lock.request).toMatchObject({ os: 'rocky-9.4', alsoOs: ['debian-12', 'alma-9.6'] });
    const refused = await ferry('resolve', '--os', 'ubuntu-22.04', '--os', 'rhel-8.6', '--pin', 'cilium=1.18', '--json');
    expect(refused.code).toBe(3);
    expect(JSON.parse(refused.out).conflicts).toContainEqual({ rules: ['cni-kernel-min'], message: expect.stringMatching(/^rhel-8\.6: cilium 1\.18 needs kernel 5\.10\+/) });
  });

  it('resolves for the OS releases a site file names (ferry doctor --site-out), besides --os, each once', async () => {
    const node = (name: string, id: string, versionId: string, family: string) => ({ name, roles: ['worker'], os: { id, versionId, family }, arch: 'x86_64', kernel: '6.1.0-37-amd64', gpus: 0 });
    const site = { apiVersion: 'ferry.dev/v1alpha1', kind: 'Site', cluster: 'lab', generatedAt: '2026-12-07T00:00:00Z', nodes: [node('cp1', 'rocky', '9.4', 'el'), node('cp2', 'rocky', '9.4', 'el'), node('d1', 'debian', '12', 'debian'), node('a1', 'almalinux', '9.6', 'el')] };
    await writeFile(join(dir, 'site.json'), JSON.stringify(site));
    const r = await ferry('resolve', '--site', 'site.json', '--k8s', '1.33', '--json');
    expect(r.code, r.err).toBe(0);
    const stack = JSON.parse(r.out).stack;
    expect([stack.os, ...stack.alsoOs.map((o: { os: unknown }) => o.os)].map((o: { id: string; version: string }) => `${o.id}-${o.version}`)).toEqual(['rocky-9.4', 'debian-12', 'alma-9.6']);
    const withOs = await ferry('resolve', '--os', 'almalinux-9.6', '--site', 'site.json', '--k8s', '1.33', '--json');
    expect(withOs.code, withOs.err).toBe(0);
    expect(JSON.parse(withOs.out).stack.alsoOs.map((o: { os: { id: string } }) => o.os.id)).toEqual(['rocky', 'debian']);
    await writeFile(join(dir, 'site-fedora.json'), JSON.stringify({ ...site, nodes: [node('f1', 'fedora', '41', 'other')] }));
    const bad = await ferry('resolve', '--site', 'site-fedora.json');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/site node f1: .*fedora/);
  });

  it('warns when the facts behind a choice are older than --max-fact-age', async () => {
    const fresh = await ferry('resolve', '--os', 'debian-12');
    expect(fresh.out).not.toMatch(/older than/);
    const strict = await ferry('resolve', '--os', 'debian-12', '--max-fact-age', '7');
    expect(strict.code).toBe(0);
    expect(strict.out).toMatch(/these choices rest on matrix facts older than 7 days: os \(read 2026-11-23, 14 days ago\)/);
  });

  it('exits 3 with the conflicting rules for an impossible pin, as text and as JSON', async () => {
    const text = await ferry('resolve', '--os', 'rhel-8.10', '--gpu', 'v100', '--pin', 'nvidia-driver=595');
    expect(text.code).toBe(3);
    expect(text.err).toMatch(/no consistent stack: Volta \(v100\) is last supported by driver branch R580.*\[volta-last-branch-r580\]/);
    const json = await ferry('resolve', '--os', 'rhel-8.10', '--k8s', '1.35', '--cgroup', 'v1', '--json');
    expect(json.code).toBe(3);
    expect(JSON.parse(json.out)).toEqual({ ok: false, conflicts: [{ rules: ['k8s-1.35-refuses-cgroup-v1'], message: expect.stringMatching(/cgroup v1/) }] });
  });

  const badInput: [string, string[], RegExp][] = [
    ['an unknown OS', ['--os', 'fedora-41'], /unknown OS "fedora-41" \(known: rhel-8\.6/],
    ['Oracle Linux, with the reason and what is supported', ['--os', 'ol-9.4'], /Oracle Linux \(ol-9\.4\) is not supported: its default kernel is the Unbreakable Enterprise Kernel.*supported: rhel \(8\.6/],
    ['a version the matrix lacks', ['--os', 'almalinux-9.9'], /unknown OS "almalinux-9\.9".*the matrix knows alma 8\.6/],
    ['an os-release file that does not exist', ['--os-release', 'no-such-file'], /cannot read .*no-such-file: ENOENT/],
    ['the same OS as --os and from --os-release', ['--os', 'alma-9.6', '--os-release', 'os-release'], /--os alma-9\.6 is named twice/],
    ['a bad --max-fact-age', ['--os', 'debian-12', '--max-fact-age', 'soon'], /--max-fact-age must be a whole number of days/],
    ['an unknown GPU', ['--os', 'debian-12', '--gpu', 'rtx9090'], /unknown GPU "rtx9090" \(known: k80/],
    ['an unknown component', ['--os', 'debian-12', '--pin', 'docker=24.0'], /unknown component "docker"/],
    ['a malformed pin', ['--os', 'debian-12', '--pin', 'kubernetes:1.35'], /malformed pin "kubernetes:1\.35"/],
    ['a missing --os', [], /the target OS is missing: pass --os/],
  ];
  it.each(badInput)('exits 2 on %s, naming what is wrong', async (_name, args, message) => {
    const r = await ferry('resolve', ...args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('exits 2 on broken matrix YAML, naming file, line and field', async () => {
    const broken = join(dir, 'broken-matrix');
    await cp(DEFAULT_MATRIX_DIR, broken, { recursive: true });
    const path = join(broken, 'kubernetes.yaml');
    await writeFile(path, (await readFile(path, 'utf8')).replace('latest: "1.35.9"', 'latest: 1.35.9\n    lateset: "x"'));
    const r = await ferry('resolve', '--os', 'debian-12', '--matrix', 'broken-matrix');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`${path}:\\d+:\\d+: releases\\[6\\]`));
  });
});

describe('ferry matrix', () => {
  it('check passes on the matrices ferry ships', async () => {
    const r = await ferry('matrix', 'check');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^matrix OK: 8 files, \d+ facts \(\d+ verified, \d+ unverified\), read \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2}$/m);
  });

  it('list names every family and show prints one', async () => {
    const list = await ferry('matrix', 'list');
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/^kubernetes\s+1\.29 1\.30 1\.31 1\.32 1\.33 1\.34 1\.35 1\.36 1\.37$/m);
    const rules = await ferry('matrix', 'show', 'rules');
    expect(rules.out).toMatch(/^blackwell-needs-open-modules\s+refuse/m);
    const bad = await ferry('matrix', 'show', 'drivers');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/unknown matrix family "drivers" \(known: os, kubernetes/);
  });
});
