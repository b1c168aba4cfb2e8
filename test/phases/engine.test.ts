// The engine under every phase: apply.ts (steps take effect only here) and the runner's observe → plan → apply loop
// (convergence, the round after an apply as proof, a dry run that plans once and records, warnings that are not work).
import { describe, expect, it } from 'vitest';
import { parseYaml } from '../../src/config/parse.ts';
import { Inventory } from '../../src/config/inventory.ts';
import { DryRunHost, DryRunPlan } from '../../src/hosts/dry-run.ts';
import { applySteps } from '../../src/phases/apply.ts';
import { debianFamily } from '../../src/phases/os/debian.ts';
import type { PhaseContext, Phase } from '../../src/phases/phase.ts';
import { newRunState } from '../../src/phases/run-state.ts';
import { runPhases, type RunEvent } from '../../src/phases/runner.ts';
import { exec, onAdmin, type Step } from '../../src/phases/step.ts';
import { renderedFile } from '../../src/render/file.ts';
import { FakeHost } from '../support/fake-host.ts';

const inventory = parseYaml(
  'apiVersion: ferry.dev/v1alpha1\nkind: Cluster\nname: t\nnetwork: { controlPlaneEndpoint: "10.0.0.100:6443" }\nhosts:\n  - { name: n1, address: 10.0.0.11, roles: [control-plane] }\n',
  'cluster.yaml', Inventory,
);
const context = (admin = new FakeHost('admin host')): PhaseContext => ({ inventory, state: newRunState(), admin, addSecret: () => {}, now: () => new Date('2026-12-07T00:00:00Z') });

describe('applySteps', () => {
  it('runs each kind through the node or the admin host, in order', async () => {
    const node = new FakeHost('n1', [
      { command: 'true', readOnly: false },
      { command: /^install -D -m 644 \/var\/lib\/ferry\/staging\/a\.conf \/etc\/a\.conf/, readOnly: false },
      { command: 'cat -- /etc/kubernetes/admin.conf', stdout: 'kind: Config\n', readOnly: false },
      { command: "dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n'", stdout: 'ii  base\n', readOnly: true },
      { command: /^apt-get .* update$/, readOnly: false },
      { command: /^apt-get .* install --no-install-recommends haproxy$/, readOnly: false },
      { command: "dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n'", stdout: 'ii  base\nii  haproxy\nii  libfoo\n', readOnly: true },
      { command: 'cat /var/lib/ferry/packages/load-balancer.list', stdout: 'haproxy\n', readOnly: true },
    ]);
    const admin = new FakeHost('admin host', [{ command: 'openssl version', readOnly: false }]);
    const ctx = context(admin);
    const secrets: string[] = [];
    let taskRan = false;
    const steps: Step[] = [
      exec(['true']),
      { kind: 'place', file: renderedFile('/etc/a.conf', 'a=1\n') },
      onAdmin(['openssl', 'version']),
      { kind: 'write', on: 'admin', path: '/state/x', content: 'x\n', mode: 0o600 },
      { kind: 'fetch', from: '/etc/kubernetes/admin.conf', to: '/state/admin.conf', mode: 0o600 },
      { kind: 'upload', from: '/bundle/registry', to: '/usr/local/bin/ferry-registry', mode: 0o755 },
      { kind: 'packages', phase: 'load-balancer', refresh: debianFamily.refresh(), install: debianFamily.install(['haproxy']), listInstalled: debianFamily.listInstalled() },
      { kind: 'secret', value: 's3cret' },
      { kind: 'warn', message: 'careful' },
      { kind: 'warn', message: 'careful' },
      { kind: 'task', what: 'seed', run: async ({ node: n, admin: a }) => { taskRan = n === node && a === admin; } },
    ];
    await applySteps(steps, { node, admin, state: ctx.state, addSecret: (s) => secrets.push(s) });
    expect(node.unmet()).toEqual([]);
    expect(admin.unmet()).toEqual([]);
    expect(admin.written.get('/state/x')).toEqual({ data: 'x\n', mode: 0o600 });
    expect(admin.written.get('/state/admin.conf')).toEqual({ data: 'kind: Config\n', mode: 0o600 });
    expect(node.uploaded.get('/usr/local/bin/ferry-registry')).toBe('/bundle/registry');
    // Everything that appeared with the install is recorded for reset, merged with what the list held.
    expect(node.written.get('/var/lib/ferry/packages/load-balancer.list')?.data).toBe('haproxy\nlibfoo\n');
    expect(secrets).toEqual(['s3cret']);
    expect(ctx.state.warnings).toEqual(['careful']);
    expect(taskRan).toBe(true);
  });

  it('records a task instead of running it in a dry run', async () => {
    const recorded: string[] = [];
    let ran = false;
    const ctx = context();
    await applySteps([{ kind: 'task', what: 'seed the registry', run: async () => { ran = true; } }], { node: new FakeHost('n1'), admin: ctx.admin, state: ctx.state, addSecret: () => {}, dryRun: true, recordTask: (w) => recorded.push(w) });
    expect(ran).toBe(false);
    expect(recorded).toEqual(['seed the registry']);
  });
});

/** A phase over a counter on the node: observe reads it, plan raises it by one step a round until it reaches `goal`. */
function counterPhase(goal: number, options: { rounds?: number; warn?: boolean } = {}): Phase<Record<string, unknown>, number> & { looks: number } {
  const phase = {
    id: 'counter', title: 'count', undo: { none: 'test' }, looks: 0, ...(options.rounds ? { rounds: options.rounds } : {}),
    targets: (ctx: PhaseContext) => ctx.inventory.hosts,
    async observe(target: { host: import('../../src/hosts/host.ts').Host }) {
      phase.looks += 1;
      return Number((await target.host.exec(['cat', '/count'])).stdout);
    },
    plan: (n: number): Step[] => [...(n < goal ? [exec(['inc'])] : []), ...(options.warn ? [{ kind: 'warn' as const, message: 'read-only here' }] : [])],
  };
  return phase;
}

class CounterHost extends FakeHost {
  n = 0;
  override async exec(command: readonly string[] | import('../../src/hosts/shell.ts').ShellCommand, options: import('../../src/hosts/host.ts').ExecOptions = {}) {
    const line = (command as string[]).join(' ');
    this.calls.push({ command: line, readOnly: options.readOnly === true });
    if (line === 'inc') this.n += 1;
    return { host: this.name, command: line, exitCode: 0, signal: null, stdout: `${this.n}\n`, stderr: '', durationMs: 0, timedOut: false };
  }
}

describe('runner: observe → plan → apply', () => {
  const run = async (phase: Phase<any, any>, host: FakeHost, o: { dryRun?: boolean } = {}) => {
    const events: RunEvent[] = [];
    const ctx = context();
    await runPhases([{ phase, params: {} }], ctx, { concurrency: 1, hostFor: () => host, onEvent: (e) => events.push(e), ...o });
    return { events, ctx, outcome: events.flatMap((e) => (e.type === 'host-end' ? [e.outcome] : []))[0] };
  };

  it('an empty first plan is already done, with reads only', async () => {
    const host = new CounterHost('n1');
    host.n = 1;
    expect((await run(counterPhase(1), host)).outcome).toBe('already-done');
    expect(host.mutating()).toEqual([]);
  });

  it('applies, then looks again: the empty plan after the apply is the proof', async () => {
    const host = new CounterHost('n1');
    const phase = counterPhase(1);
    expect((await run(phase, host)).outcome).toBe('ran');
    expect(host.mutating()).toEqual(['inc']);
    expect(phase.looks).toBe(2);
    // Every observation went through a read-only host.
    expect(host.calls.filter((c) => c.command === 'cat /count').every((c) => c.readOnly)).toBe(true);
  });

  it('fails naming what it would still do when the plan does not empty within the rounds', async () => {
    const host = new CounterHost('n1');
    await expect(run(counterPhase(5), host)).rejects.toThrow(/n1: counter is still not done after 2 application\(s\); what it would still do: inc/);
    expect(host.mutating()).toEqual(['inc', 'inc']);
  });

  it('more rounds for a phase that declares them', async () => {
    const host = new CounterHost('n1');
    expect((await run(counterPhase(3, { rounds: 4 }), host)).outcome).toBe('ran');
    expect(host.n).toBe(3);
  });

  it('a dry run plans once, records on the dry-run host, and never looks again', async () => {
    const live = new CounterHost('n1');
    const plan = new DryRunPlan();
    const phase = counterPhase(1);
    await run(phase, new DryRunHost('n1', { plan, live }) as unknown as FakeHost, { dryRun: true });
    expect(plan.entries).toEqual([{ host: 'n1', kind: 'exec', command: 'inc' }]);
    expect(live.n).toBe(0);
    expect(phase.looks).toBe(1);
  });

  it('a plan of warnings only is done, and each warning is said once', async () => {
    const host = new CounterHost('n1');
    const r = await run(counterPhase(1, { warn: true }), host);
    expect(r.outcome).toBe('ran');
    expect(r.ctx.state.warnings).toEqual(['read-only here']);
  });

  it('observe cannot write: the host it gets refuses', async () => {
    const phase: Phase<Record<string, unknown>, void> = {
      id: 'sneaky', title: 's', undo: { none: 'test' }, targets: (ctx) => ctx.inventory.hosts,
      async observe(target) { await target.host.writeFile('/etc/x', 'x'); },
      plan: () => [],
    };
    await expect(run(phase, new FakeHost('n1'))).rejects.toThrow(/tried to write \/etc\/x while observing/);
  });
});
