// The single executable: built by scripts/build-sea.ts (as dist/ferry, shared by the tests), run from a directory with no node_modules and no Node on PATH.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferryBinaryForBundle } from '../../src/ship/ferry-binary.ts';
import { pathWithoutNode } from './support/no-node.ts';

const repo = resolve(import.meta.dirname, '../..');
let dir: string;
let binary: string;
let env: Record<string, string>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-sea-'));
  binary = join(dir, 'run', 'ferry');
  // dist/ferry built once per source digest and shared with every other test (src/ship/ferry-binary.ts).
  mkdirSync(join(dir, 'run'));
  copyFileSync((await ferryBinaryForBundle()).path, binary);
  env = { PATH: pathWithoutNode(dir), HOME: dir };
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ferry(...args: string[]) {
  const r = spawnSync(binary, args, { cwd: join(dir, 'run'), env, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('single executable', { timeout: 60_000 }, () => {
  it('runs with no Node on PATH and no node_modules beside it', () => {
    expect(spawnSync('sh', ['-c', 'command -v node'], { env }).status).not.toBe(0);
    expect(readdirSync(join(dir, 'run'))).toContain('ferry');
    expect(readdirSync(join(dir, 'run')).filter((n) => n === 'node_modules' || n === 'matrices')).toEqual([]);
    const r = ferry('--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Usage: ferry/);
  });

  it('maps bad usage to exit 2 like the source version', () => {
    const r = ferry('--no-such-flag');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown option/);
  });

  it('resolves from the matrix it carries, the same stack and digest as the source version', async () => {
    const args = ['resolve', '--os', 'rocky-9.4', '--gpu', 'h100', '--k8s', '1.33', '--json'];
    const r = ferry(...args);
    expect(r.code).toBe(0);
    const fromBinary = JSON.parse(r.out);
    const fromSource = JSON.parse(execFileSync(process.execPath, [join(repo, 'bin/ferry.js'), ...args], { encoding: 'utf8' }));
    expect(fromBinary.stack).toEqual(fromSource.stack);
    expect(fromBinary.stack.nvidiaDriver.branch).toBe('620');
    const out = ferry('resolve', '--os', 'rocky-9.4', '--gpu', 'h100', '--k8s', '1.33', '--out', 'ferry.lock.yaml');
    expect(out.code).toBe(0);
    const lock = execFileSync('cat', [join(dir, 'run', 'ferry.lock.yaml')], { encoding: 'utf8' });
    const { loadMatrix } = await import('../../src/matrix/load.ts');
    expect(lock).toContain(`matrixDigest: ${(await loadMatrix()).digest}`);
  });

  it('plans an install from the playbooks it carries (no checkout beside it)', () => {
    copyFileSync(join(repo, 'examples', 'cluster.yaml'), join(dir, 'run', 'cluster.yaml'));
    mkdirSync(join(dir, 'run', 'bundle'), { recursive: true });
    // The files the example inventory names must exist: inputs are checked before anything runs.
    mkdirSync(join(dir, '.ssh'), { recursive: true });
    writeFileSync(join(dir, '.ssh', 'ferry_ed25519'), 'placeholder: never read, no host is reached\n');
    writeFileSync(join(dir, 'run', 'known_hosts'), '');
    expect(ferry('resolve', '--os', 'rocky-9.4', '--gpu', 'h100', '--k8s', '1.33', '--out', 'install.lock.yaml').code).toBe(0);
    // An unknown --only id is refused against the playbook's own phase list, before any host is reached.
    const r = ferry('install', '-i', 'cluster.yaml', '--bundle', 'bundle', '--lock', 'install.lock.yaml', '--state-dir', 'state', '--only', 'no-such-phase');
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(/no phase "no-such-phase" in this playbook \(phases: preflight, copy-bundle, .*, verify\)/);
    const reset = ferry('reset', '-i', 'cluster.yaml', '--state-dir', 'state', '--only', 'no-such-phase');
    expect(reset.err).toMatch(/\(phases: preflight, reset-gpu-addons, .*, reset-copy-bundle\)/);
  });

  it('starts in well under a second', () => {
    const started = performance.now();
    expect(ferry('--version').code).toBe(0);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(statSync(binary).size).toBeGreaterThan(10 * 2 ** 20);
  });
});
