import { mkdtemp, rm, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newRunState } from '../../src/phases/run-state.ts';
import { FakeHost } from '../support/fake-host.ts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseYaml } from '../../src/config/parse.ts';
import { Inventory } from '../../src/config/inventory.ts';
import { PhaseError, UserError } from '../../src/errors.ts';
import { LocalHost } from '../../src/hosts/local.ts';
import { sh } from '../../src/hosts/shell.ts';
import type { AnyPhase, Phase, PhaseContext } from '../../src/phases/phase.ts';
import { exec, type Step } from '../../src/phases/step.ts';
import { planPlaybook, runPhases, type RunEvent } from '../../src/phases/runner.ts';
import { AuditHost, type AuditRecord } from '../../src/state/audit.ts';

// Hosts here are real: LocalHost running real commands, each "host" owning a directory of its own.
const inventory = parseYaml(
  `apiVersion: ferry.dev/v1alpha1
kind: Cluster
name: t
network: {controlPlaneEndpoint: "10.0.0.100:6443"}
hosts:
  - {name: cp1, address: 10.0.0.11, roles: [control-plane]}
  - {name: cp2, address: 10.0.0.12, roles: [control-plane]}
  - {name: cp3, address: 10.0.0.13, roles: [control-plane]}
  - {name: w1, address: 10.0.0.21, roles: [worker]}
  - {name: w2, address: 10.0.0.22, roles: [worker, gpu]}
`,
  'inline',
  Inventory,
);

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'ferry-runner-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/**
 * A phase that creates a marker file per host: observe looks for it through the (read-only) host, and plan, where it
 * is missing, logs the visit, fails on the hosts `fail` names, and touches it. An empty plan: already done.
 */
function touchPhase(id: string, roles: string[], opts: { order?: 'serial' | 'parallel'; fail?: Set<string>; log?: string[] } = {}): Phase<Record<string, unknown>, boolean> {
  return {
    id,
    title: `touch ${id}`,
    undo: { none: 'a test phase' },
    order: opts.order,
    targets: (ctx) => ctx.inventory.hosts.filter((h) => h.roles.some((r) => roles.includes(r))),
    observe: async ({ spec, host }) => (await host.exec(['test', '-e', join(root, spec.name, id)], { allowFailure: true })).exitCode === 0,
    plan: (present, { spec }): Step[] => present ? [] : [
      { kind: 'task', what: `log ${id}:${spec.name}`, run: async () => void opts.log?.push(`${id}:${spec.name}`) },
      ...(opts.fail?.has(spec.name) ? [exec(sh`echo ${`cannot ${id} on ${spec.name}`} >&2; exit 3`)] : []),
      exec(['mkdir', '-p', join(root, spec.name)]),
      exec(['touch', join(root, spec.name, id)]),
    ],
  };
}

function context(): PhaseContext & { secrets: string[] } {
  const secrets: string[] = [];
  return {
    inventory,
    state: newRunState(),
    admin: new FakeHost('admin host'),
    secrets,
    addSecret: (v) => secrets.push(v),
    now: () => new Date(),
  };
}

function harness() {
  const ctx = context();
  const audit: AuditRecord[] = [];
  const events: RunEvent[] = [];
  let phase: string | undefined;
  const hosts = new Map<string, AuditHost>();
  const hostFor = (name: string) => {
    if (!hosts.has(name))
      hosts.set(name, new AuditHost(new LocalHost(name), { sink: (r) => audit.push(r), secrets: () => ctx.secrets, now: () => new Date(), phase: () => phase }));
    return hosts.get(name)!;
  };
  const options = { concurrency: 30, hostFor, onEvent: (e: RunEvent) => events.push(e), onPhase: (p: string | undefined) => (phase = p) };
  return { ctx, audit, events, options };
}

const mutating = (audit: AuditRecord[]) => audit.filter((r) => !r.command.startsWith('test '));

describe('runPhases', () => {
  it('runs a phase\'s afterAll once over every target after the hosts succeeded, and stops on the PhaseError it throws', async () => {
    const seen: string[][] = [];
    const gated: Phase<Record<string, unknown>, boolean> = {
      ...touchPhase('check', ['control-plane', 'worker']),
      afterAll: async (targets) => {
        seen.push(targets.map((t) => `${t.spec.name}=${t.host.name}`));
        throw new PhaseError('check', new Map([['w2', new Error('port 4789 blocked')]]), { hint: 'allow it or pass --allow-failed-check vxlan-udp' });
      },
    };
    const run = harness();
    const events: RunEvent[] = [];
    const error = await runPhases([{ phase: gated, params: {} }, { phase: touchPhase('after', ['worker']), params: {} }], run.ctx, { ...run.options, onEvent: (e) => events.push(e) }).catch((e) => e);
    expect(seen).toEqual([['cp1=cp1', 'cp2=cp2', 'cp3=cp3', 'w1=w1', 'w2=w2']]);
    expect(error).toBeInstanceOf(PhaseError);
    expect(error.hint).toBe('allow it or pass --allow-failed-check vxlan-udp');
    expect([...error.failures.keys()]).toEqual(['w2']);
    expect(events.filter((e) => e.type === 'phase-end')).toEqual([{ type: 'phase-end', phase: 'check', ok: false }]);
    await expect(readdir(join(root, 'w1'))).resolves.toEqual(['check']);
  });

  it('applies the steps an afterAll hands it through the runner: recorded in a dry run, run in a live one', async () => {
    const ran: string[] = [];
    const staged: Phase<Record<string, unknown>, boolean> = {
      ...touchPhase('stage', ['worker']),
      afterAll: (targets, _ctx, _params, apply) => apply([{ kind: 'task', what: 'the stage', run: async ({ node }) => void ran.push(node.name) }], targets[0]),
    };
    const dry = harness();
    const recorded: string[] = [];
    await runPhases([{ phase: staged, params: {} }], dry.ctx, { ...dry.options, dryRun: true, recordTask: (host, what) => recorded.push(`${host}: ${what}`) });
    expect(recorded).toContain('w1: the stage');
    expect(ran).toEqual([]);
    const live = harness();
    await runPhases([{ phase: staged, params: {} }], live.ctx, live.options);
    expect(ran).toEqual(['w1']);
  });

  it('runs phases in order over their target hosts and converges: a second run changes nothing', async () => {
    const plan = [touchPhase('prepare', ['control-plane', 'worker']), touchPhase('init', ['control-plane'], { order: 'serial' })].map((phase) => ({ phase, params: {} }));
    const first = harness();
    const report = await runPhases(plan, first.ctx, first.options);
    expect(report.map((r) => [r.phase, Object.values(r.hosts)])).toEqual([
      ['prepare', ['ran', 'ran', 'ran', 'ran', 'ran']],
      ['init', ['ran', 'ran', 'ran']],
    ]);
    expect((await readdir(join(root, 'cp1'))).sort()).toEqual(['init', 'prepare']);
    expect((await readdir(join(root, 'w1'))).sort()).toEqual(['prepare']);
    expect(first.audit.every((r) => r.phase === 'prepare' || r.phase === 'init')).toBe(true);

    const second = harness();
    const again = await runPhases(plan, second.ctx, second.options);
    expect(again.flatMap((r) => Object.values(r.hosts)).every((o) => o === 'already-done')).toBe(true);
    expect(mutating(second.audit)).toEqual([]);
  });

  it('stops after a failed phase, names phase and host, and a re-run after the fix finishes the rest', async () => {
    const fail = new Set(['w2']);
    const plan = [touchPhase('prepare', ['control-plane', 'worker'], { fail }), touchPhase('join', ['worker'])].map((phase) => ({ phase, params: {} }));
    const first = harness();
    const error = await runPhases(plan, first.ctx, first.options).catch((e) => e);
    expect(error).toBeInstanceOf(PhaseError);
    expect(error.phase).toBe('prepare');
    expect([...error.failures.keys()]).toEqual(['w2']);
    expect(error.message).toMatch(/w2: .*cannot prepare on w2/);
    expect(first.events.some((e) => e.type === 'phase-start' && e.phase === 'join')).toBe(false);

    fail.clear();
    const second = harness();
    const report = await runPhases(plan, second.ctx, second.options);
    expect(report[0]!.hosts).toEqual({ cp1: 'already-done', cp2: 'already-done', cp3: 'already-done', w1: 'already-done', w2: 'ran' });
    expect(report[1]!.hosts).toEqual({ w1: 'ran', w2: 'ran' });
  });

  it('visits a serial phase one host at a time in inventory order and stops at its first failure', async () => {
    const log: string[] = [];
    const plan = [{ phase: touchPhase('join-control-plane', ['control-plane'], { order: 'serial', fail: new Set(['cp2']), log }), params: {} }];
    const h = harness();
    await expect(runPhases(plan, h.ctx, h.options)).rejects.toBeInstanceOf(PhaseError);
    expect(log).toEqual(['join-control-plane:cp1', 'join-control-plane:cp2']);
    const ends = h.events.filter((e) => e.type === 'host-end').map((e) => (e as { host: string }).host);
    expect(ends).toEqual(['cp1', 'cp2']);
  });

  it('keeps a parallel phase within the concurrency bound', async () => {
    let now = 0;
    let peak = 0;
    const slow: Phase<Record<string, unknown>, boolean> = {
      ...touchPhase('slow', ['control-plane', 'worker']),
      plan: (present, { spec }) => present ? [] : [
        {
          kind: 'task', what: 'sleep', run: async ({ node }) => {
            now++;
            peak = Math.max(peak, now);
            await node.exec(['sleep', '0.05']);
            now--;
          },
        },
        exec(['mkdir', '-p', join(root, spec.name)]),
        exec(['touch', join(root, spec.name, 'slow')]),
      ],
    };
    const h = harness();
    await runPhases([{ phase: slow, params: {} }], h.ctx, { ...h.options, concurrency: 2 });
    expect(peak).toBe(2);
  });

  it('honours --only and --skip and refuses a phase id the playbook does not have', async () => {
    const plan = ['a', 'b', 'c'].map((id) => ({ phase: touchPhase(id, ['worker']), params: {} }));
    const h = harness();
    const report = await runPhases(plan, h.ctx, { ...h.options, only: ['b', 'c'], skip: ['c'] });
    expect(report.map((r) => r.phase)).toEqual(['b']);
    await expect(runPhases(plan, h.ctx, { ...h.options, only: ['nope'] })).rejects.toBeInstanceOf(UserError);
  });

  it('redacts a secret registered mid-run from the audit log and from errors', async () => {
    const token = 'abcdef.0123456789abcdef';
    // Nothing to observe: the plan registers the token as a secret, then uses it.
    const phase: Phase<Record<string, unknown>, undefined> = {
      id: 'join',
      title: 'join',
      undo: { none: 'a test phase' },
      targets: (ctx) => ctx.inventory.hosts.filter((x) => x.name === 'w1'),
      observe: async () => undefined,
      plan: () => [{ kind: 'secret', value: token }, exec(['echo', `--token=${token}`]), exec(sh`echo ${token} >&2; exit 1`)],
    };
    const h = harness();
    const error = await runPhases([{ phase, params: {} }], h.ctx, h.options).catch((e) => e);
    expect(JSON.stringify(h.audit)).not.toContain(token);
    expect(h.audit[0]!.command).toBe('echo --token=<redacted>');
    expect(error.message).not.toContain(token);
    expect(error.message).toContain('<redacted>');
  });
});

describe('planPlaybook', () => {
  const registry = new Map<string, AnyPhase>([
    ['prepare', touchPhase('prepare', ['worker'])],
    ['join', { ...touchPhase('join', ['worker']), params: z.object({ batch: z.number().int().min(1) }).strict() }],
  ]);

  it('types the parameters of each phase', () => {
    const plan = planPlaybook([{ id: 'prepare', params: {} }, { id: 'join', params: { batch: 5 } }], registry, 'playbooks/install.yaml');
    expect(plan.map((p) => [p.phase.id, p.params])).toEqual([['prepare', {}], ['join', { batch: 5 }]]);
  });

  it('names every unknown phase and bad parameter before anything runs', () => {
    expect(() =>
      planPlaybook([{ id: 'frobnicate', params: {} }, { id: 'join', params: { batch: 0 } }], registry, 'playbooks/install.yaml'),
    ).toThrow(/phases\[0\]: unknown phase "frobnicate" \(known: prepare, join\)\n.*phases\[1\]\.with\.batch:/);
  });
});
