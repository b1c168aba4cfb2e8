// Seed mode of copy-bundle: the seed stage's plan from tables of what was seen, then through the runner against
// fake hosts: the seed gets the files from the admin host, the other nodes wait for the seed stage (afterAll), which
// starts the seed's server (random port, PID kept), runs the fetcher on each node that lacks files, checks them
// again there, and stops the server by its PID even when a fetch fails.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { PhaseError, UserError } from '../../src/errors.ts';
import { copyBundlePhase, copyStats, planSeedStage, type SeedStagePlan, type SeedStageSeen } from '../../src/phases/copy-bundle.ts';
import { runPhases } from '../../src/phases/runner.ts';
import { CopyParams, fetchProgram, seedNode, serverCommand, serverProgram } from '../../src/phases/seed-copy.ts';
import { hashBytes } from '../../src/util/hash.ts';
import { FakeHost } from '../support/fake-host.ts';
import { phaseContext } from './phase-context.ts';

const CHECK = 'cd /var/lib/ferry/bundle 2>/dev/null && sha256sum -c --quiet -';
const PYTHON = 'command -v python3 || command -v /usr/libexec/platform-python || true';
const SEED = CopyParams.parse({ mode: 'seed' });
const lacking = 'packages/debian-12/amd64/Packages: FAILED\nfiles/kubernetes/1.33.4/kubeadm: FAILED open or read\n';

describe('seedNode', () => {
  const hosts = phaseContext('debian').inventory.hosts;
  it.each([
    { name: 'direct never seeds', params: { mode: 'direct' }, count: 5, seed: undefined },
    { name: 'auto stays direct up to seedAbove nodes', params: { mode: 'auto', seedAbove: 5 }, count: 5, seed: undefined },
    { name: 'auto seeds above seedAbove nodes, from the first control plane', params: { mode: 'auto', seedAbove: 4 }, count: 5, seed: 'cp-1' },
    { name: 'seed with a named seed', params: { mode: 'seed', seed: 'gpu-2' }, count: 5, seed: 'gpu-2' },
    { name: 'seed on one node is a direct copy', params: { mode: 'seed' }, count: 1, seed: undefined },
  ])('$name', ({ params, count, seed }) => {
    expect(seedNode(hosts.slice(0, count), CopyParams.parse(params))?.name).toBe(seed);
  });
  it('refuses a seed that is not in the inventory', () => {
    expect(() => seedNode(hosts, CopyParams.parse({ mode: 'seed', seed: 'cp-9' }))).toThrow(UserError);
  });
});

describe('seed server and fetcher', () => {
  it('starts the server in the background under timeout and prints its PID', () => {
    expect(serverCommand('python3', 'print(1)').shell).toBe("cd /var/lib/ferry/bundle && { nohup timeout 1800 python3 -c 'print(1)' </dev/null >/dev/null 2>&1 & echo $!; }");
  });

  it('hands both programs their settings as a Python literal', () => {
    const files = [{ path: 'packages/debian-12/amd64/keepalived_1%3a2.2.7-1+b2_amd64.deb', size: 569660, sha256: 'a'.repeat(64) }];
    const fetch = fetchProgram('main()\n', { address: '10.20.0.11', port: 43210 }, files);
    expect(JSON.parse(/^CONFIG = (.*)$/m.exec(fetch)![1]!)).toEqual({ address: '10.20.0.11', port: 43210, root: '/var/lib/ferry/bundle', files });
    const serve = serverProgram('main()\n', '10.20.0.11', 43210, files);
    expect(JSON.parse(/^CONFIG = (.*)$/m.exec(serve)![1]!)).toEqual({ address: '10.20.0.11', port: 43210, root: '/var/lib/ferry/bundle', files: [files[0]!.path] });
  });

  // The real programs with this machine's python3 on loopback: what the nodes run, minus SSH.
  it('moves files from server to fetcher with their sha256 checked, and refuses files not on the list', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-seed-'));
    try {
      const data = [randomBytes(3 << 20), randomBytes(777)];
      const files = data.map((d, i) => ({ path: `files/p/part-${i}.bin`, size: d.length, sha256: hashBytes(d).sha256 }));
      await mkdir(join(dir, 'seed/files/p'), { recursive: true });
      for (const [i, d] of data.entries()) await writeFile(join(dir, 'seed', files[i]!.path), d);
      const port = 20000 + Math.floor(Math.random() * 40000);
      const server = execa('python3', ['-c', serverProgram(await readFile(new URL('../../src/phases/seed-serve.py', import.meta.url), 'utf8'), '127.0.0.1', port, files, join(dir, 'seed'))]);
      try {
        const fetchSource = await readFile(new URL('../../src/phases/seed-fetch.py', import.meta.url), 'utf8');
        const fetch = (list: typeof files) => execa('python3', ['-'], { input: fetchProgram(fetchSource, { address: '127.0.0.1', port }, list, join(dir, 'node')), reject: false });
        const ok = await fetch(files);
        expect(ok.stdout).toBe(`ferry-seed-fetch ok 2 ${(3 << 20) + 777}`);
        for (const [i, d] of data.entries()) expect((await readFile(join(dir, 'node', files[i]!.path))).equals(d)).toBe(true);
        const wrong = await fetch([{ ...files[1]!, sha256: 'b'.repeat(64) }]);
        expect(wrong.exitCode).toBe(3);
        expect(wrong.stdout).toMatch(/^ferry-seed-fetch bad files\/p\/part-1\.bin: got 777 bytes with sha256 [0-9a-f]{64}, the manifest says 777 bytes$/);
        const other = await fetch([{ path: '../etc/passwd', size: 1, sha256: 'c'.repeat(64) }]);
        expect(other.stdout).toBe('ferry-seed-fetch bad ../etc/passwd: the seed said: NO not a file of this copy');
      } finally {
        server.kill();
        await server.catch(() => undefined);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

const file = (path: string, size: number) => ({ path, size, sha256: 'a'.repeat(64) });
const A = file('files/a', 1);
const B = file('files/b', 2);

describe('seed stage plan', () => {
  it.each<{ name: string; seen: SeedStageSeen; plan: SeedStagePlan }>([
    {
      name: 'nodes with python fetch from the seed, which serves every file',
      seen: { files: [A, B], seed: { name: 'cp-1', address: '10.20.0.11', python: '/usr/bin/python3' }, nodes: [{ name: 'w-1', missing: [A], python: '/usr/bin/python3' }, { name: 'w-2', missing: [], python: '/usr/bin/python3' }] },
      plan: { serve: { seed: 'cp-1', address: '10.20.0.11', python: '/usr/bin/python3', files: [A, B] }, fromSeed: [{ name: 'w-1', python: '/usr/bin/python3', files: [A] }], direct: [] },
    },
    {
      name: 'a node without python gets its files from the admin host',
      seen: { files: [A, B], seed: { name: 'cp-1', address: '10.20.0.11', python: '/usr/libexec/platform-python' }, nodes: [{ name: 'w-1', missing: [A, B] }, { name: 'w-2', missing: [B], python: '/usr/bin/python3' }] },
      plan: { serve: { seed: 'cp-1', address: '10.20.0.11', python: '/usr/libexec/platform-python', files: [A, B] }, fromSeed: [{ name: 'w-2', python: '/usr/bin/python3', files: [B] }], direct: [{ name: 'w-1', files: [A, B] }] },
    },
    {
      name: 'no seed among the run\'s hosts (add-node): from the admin host',
      seen: { files: [A, B], nodes: [{ name: 'w-9', missing: [A], python: '/usr/bin/python3' }] },
      plan: { fromSeed: [], direct: [{ name: 'w-9', files: [A] }] },
    },
    { name: 'nothing lacking: nothing', seen: { files: [A], seed: { name: 'cp-1', address: '10.20.0.11' }, nodes: [{ name: 'w-1', missing: [] }] }, plan: { fromSeed: [], direct: [] } },
  ])('$name', ({ seen, plan }) => {
    expect(planSeedStage(seen)).toEqual(plan);
  });

  it('refuses a seed without python when a node would fetch from it', () => {
    expect(() => planSeedStage({ files: [A], seed: { name: 'cp-1', address: '10.20.0.11' }, nodes: [{ name: 'w-1', missing: [A], python: 'python3' }] }))
      .toThrow(/^cp-1: the seed has no python3 \(or platform-python\) to serve the bundle$/);
  });
});

describe('copy-bundle in seed mode, through the runner', () => {
  const run = (ctx: ReturnType<typeof phaseContext>, hosts: FakeHost[]) =>
    runPhases([{ phase: copyBundlePhase, params: SEED }], ctx, { concurrency: 2, hostFor: (n) => hosts.find((h) => h.name === n)! });

  it('copies to the seed only, then each other node fetches from the seed, and the server is stopped by PID', async () => {
    const ctx = phaseContext('debian', { hosts: ['cp-1', 'cp-2'], plainBundle: true });
    const seed = new FakeHost('cp-1', [
      { command: CHECK, exitCode: 1, stdout: lacking, readOnly: true },
      { command: 'mkdir -p -- /var/lib/ferry/bundle/files/kubernetes/1.33.4 /var/lib/ferry/bundle/packages/debian-12/amd64', readOnly: false },
      { command: CHECK, exitCode: 0, readOnly: true },
      { command: PYTHON, stdout: '/usr/bin/python3\n', readOnly: true },
      { command: /^cd \/var\/lib\/ferry\/bundle && \{ nohup timeout 1800 \/usr\/bin\/python3 -c 'CONFIG = \{"address":"10\.20\.0\.11","port":\d+,/, stdout: '4242\n', readOnly: false },
      { command: 'kill -- 4242', readOnly: false },
    ]);
    const other = new FakeHost('cp-2', [
      { command: CHECK, exitCode: 1, stdout: lacking, readOnly: true, times: 3 },
      { command: PYTHON, stdout: '/usr/bin/python3\n', readOnly: true },
      { command: '/usr/bin/python3 -', stdout: 'ferry-seed-fetch ok 2 30\n', readOnly: false },
      { command: CHECK, exitCode: 0, readOnly: false },
    ]);
    const [report] = await run(ctx, [seed, other]);
    expect(report!.hosts).toEqual({ 'cp-1': 'ran', 'cp-2': 'ran' });
    expect(seed.uploaded.size).toBe(2);
    expect(other.uploaded.size).toBe(0);
    expect(other.calls.find((c) => c.command === '/usr/bin/python3 -')!.stdin).toMatch(/^CONFIG = \{"address":"10\.20\.0\.11","port":\d+,.*kubeadm/);
    expect(copyStats(ctx).get('cp-2')).toMatchObject({ files: 2, bytes: 30 });
    expect(seed.unmet()).toEqual([]);
    expect(other.unmet()).toEqual([]);
  });

  it('names the node whose fetch failed and still stops the server', async () => {
    const ctx = phaseContext('debian', { hosts: ['cp-1', 'cp-2'], plainBundle: true });
    const seed = new FakeHost('cp-1', [
      { command: CHECK, exitCode: 0, readOnly: true },
      { command: PYTHON, stdout: '/usr/bin/python3\n', readOnly: true },
      { command: /seed server/, stdout: '4243\n' },
      { command: 'kill -- 4243' },
    ]);
    const other = new FakeHost('cp-2', [
      { command: CHECK, exitCode: 1, stdout: lacking, readOnly: true, times: 3 },
      { command: PYTHON, stdout: '/usr/bin/python3\n', readOnly: true },
      { command: '/usr/bin/python3 -', exitCode: 3, stdout: 'ferry-seed-fetch bad files/kubernetes/1.33.4/kubeadm: [Errno 111] Connection refused\n' },
    ]);
    const error = await run(ctx, [seed, other]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PhaseError);
    expect((error as PhaseError).failures.get('cp-2')!.message).toBe('cp-2: fetching from the seed failed: files/kubernetes/1.33.4/kubeadm: [Errno 111] Connection refused');
    expect(seed.unmet()).toEqual([]);
  });

  it('does nothing after the hosts when every node already has the files', async () => {
    const ctx = phaseContext('debian', { hosts: ['cp-1', 'cp-2'], plainBundle: true });
    const seed = new FakeHost('cp-1', [{ command: CHECK, exitCode: 0, readOnly: true }]);
    const other = new FakeHost('cp-2', [{ command: CHECK, exitCode: 0, readOnly: true }]);
    const [report] = await run(ctx, [seed, other]);
    expect(report!.hosts).toEqual({ 'cp-1': 'already-done', 'cp-2': 'already-done' });
    expect([...seed.calls, ...other.calls].filter((c) => !c.readOnly)).toEqual([]);
  });
});
