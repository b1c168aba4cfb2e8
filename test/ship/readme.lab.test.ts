// The README's first code block, followed literally on a clean clone: `git clone --no-hardlinks` of this checkout
// (committed content only), then its first command run there exactly as written (setup, then `./ferry demo`), and
// the demo's summary checked: every step succeeded, the phases ran on 3 lab nodes, and the lab is gone afterwards.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstCodeBlockCommands } from './readme-commands.ts';

const repo = resolve(import.meta.dirname, '../..');
const commands = firstCodeBlockCommands(readFileSync(join(repo, 'README.md'), 'utf8'));
let clone: string;
let demo: { status: number | null; stdout: string; stderr: string; ms: number };

/** The environment a person's shell would have: none of the test runner's own variables. */
function shellEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(VITEST|NODE_|TEST$|npm_)/.test(k)) env[k] = v;
  return env;
}

beforeAll(async () => {
  clone = join(await mkdtemp(join(tmpdir(), 'ferry-readme-')), 'ferry');
  execFileSync('git', ['clone', '-q', '--no-hardlinks', repo, clone]);
  const started = performance.now();
  const r = spawnSync('bash', ['-c', commands[0]!], { cwd: clone, env: shellEnv(), encoding: 'utf8', timeout: 540_000, maxBuffer: 64 << 20 });
  demo = { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Math.round(performance.now() - started) };
  console.log(`[readme] "${commands[0]}" in a clean clone: ${demo.ms} ms\n${demo.stdout.slice(demo.stdout.indexOf('ferry demo:'))}`);
}, 600_000);

afterAll(async () => {
  if (clone) await rm(resolve(clone, '..'), { recursive: true, force: true });
});

describe("the README's first code block, on a clean clone", () => {
  it('is the setup and the demo, then the test command', () => {
    expect(commands).toEqual(['bash scripts/setup.sh && ./ferry demo', 'bash scripts/test.sh']);
  });

  it('runs setup then the demo, which succeeds at every step and says so', () => {
    expect(demo.status, demo.stderr.slice(-3000)).toBe(0);
    const out = demo.stdout;
    expect(out).toMatch(/^ferry demo: everything it could do succeeded in [\d.]+ s$/m);
    for (const step of ['Resolve the example', 'Build the bundle', 'Verify it', 'Boot 3 lab nodes', 'Check the nodes: ferry doctor', 'Install: ferry install', 'Tear the lab down'])
      expect(out).toMatch(new RegExp(`^  ok    ${step.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));
    expect(out).toMatch(/^install phases run on the lab nodes: preflight, copy-bundle, local-repo, os-prepare, firewalld, container-runtime, .*load-balancer/m);
    // The bundle the demo built carried the executable, built in the clone from its own sources.
    expect(demo.stderr).toMatch(/\[bundle\] The ferry executable: \d+ bytes \(built dist\/ferry from the sources/);
  });

  it('leaves no lab behind: the bridge address of its nodes is gone from this machine', () => {
    const addresses = [...demo.stdout.matchAll(/node\d (10\.\d+\.\d+)\.\d+ \(/g)].map((m) => m[1]!);
    expect(addresses).toHaveLength(3);
    const ip = execFileSync('ip', ['-o', '-4', 'addr'], { encoding: 'utf8' });
    expect(ip).not.toContain(` ${addresses[0]}.1/`);
  });

  // The second command, `bash scripts/test.sh`, is what CI itself runs (.ci/run); running it here would run this
  // test again inside itself. Its cheap form: the script exists and bash can parse it.
  it('names a test script bash can parse', () => {
    const [shell, script] = commands[1]!.split(' ');
    expect(spawnSync(shell!, ['-n', join(clone, script!)]).status).toBe(0);
  });
});
