import { describe, expect, it } from 'vitest';
import { PhaseError, UserError } from '../../src/errors.ts';
import { checkAllowedIds, DoctorGateError, doctorGate } from '../../src/phases/doctor-gate.ts';
import { runWarnings } from '../../src/phases/os-prepare.ts';
import { applySteps } from '../../src/phases/apply.ts';
import type { ApplyStage, PhaseContext, PhaseTarget } from '../../src/phases/phase.ts';
import { parseNodeFacts } from '../../src/facts/node.ts';
import { fixtureText } from '../facts/fixtures.ts';
import { FakeHost } from '../support/fake-host.ts';
import { phaseContext } from './phase-context.ts';

// Each node's facts are the real gather.sh output of a lab node (test/fixtures/facts/debian12-lab-node) under its own
// hostname and machine-id (unless `twin`), read by preflight into the run state as in an install: the gate reads no
// node again. Each node answers its clock and runs a probe agent that dies before reporting (as on a node whose
// python lacks raw sockets).
function node(ctx: ReturnType<typeof phaseContext>, name: string, index: number, twin = false): FakeHost {
  const facts = twin ? fixtureText('debian12-lab-node') : fixtureText('debian12-lab-node').replace('\nnode1\n', `\n${name}\n`).replace('2e5255a0ff604c90baa264857dcb3b4', `2e5255a0ff604c90baa264857dcb3b${index}`);
  const spec = ctx.inventory.hosts.find((h) => h.name === name)!;
  ctx.state.facts.set(name, parseNodeFacts(name, facts, spec.address));
  return new FakeHost(name, [
    { command: 'date +%s%N', stdout: `${Date.parse('2026-11-23T12:00:00Z')}000000\n`, readOnly: true, times: Infinity },
    { command: /^timeout -k 2 \d+ python3 -$/, stdout: '', stderr: 'PermissionError: [Errno 1] Operation not permitted', exitCode: 1, readOnly: true, times: Infinity },
  ]);
}

function targetsOf(ctx: ReturnType<typeof phaseContext>, twins = false): { targets: PhaseTarget[]; hosts: FakeHost[] } {
  const hosts = ctx.inventory.hosts.map((h, i) => node(ctx, h.name, i, twins));
  return { targets: ctx.inventory.hosts.map((spec, i) => ({ spec, host: hosts[i]! })), hosts };
}

/** The runner's applier for an afterAll, as in a live run: steps on the admin host unless given a node. */
const applier = (ctx: PhaseContext): ApplyStage => (steps, on) => applySteps(steps, { node: on?.host ?? ctx.admin, admin: ctx.admin, state: ctx.state, addSecret: ctx.addSecret });

describe('doctorGate', () => {
  it('reads no node again and runs only read-only commands, keeps the recommendation, and warns without stopping on a healthy control plane pair', async () => {
    const ctx = phaseContext('debian', { hosts: ['cp-1', 'cp-2'] });
    const { targets, hosts } = targetsOf(ctx);
    await doctorGate(targets, ctx, applier(ctx));
    for (const h of hosts) {
      expect(h.mutating()).toEqual([]);
      expect(h.calls.filter((c) => c.command === 'sh -s')).toEqual([]);
    }
    expect(ctx.state.doctorRecommendation).toMatchObject({ encapsulation: 'vxlan', ipipProbe: 'unproven', iptablesBackend: 'NFT' });
    const warnings = runWarnings(ctx);
    expect(warnings).toContainEqual(expect.stringMatching(/^doctor: cp-1: ip-forward: .*install goes on/));
    expect(warnings).toContainEqual(expect.stringMatching(/^doctor: cp-2: probe-agent: pairwise probes could not run here/));
  });

  it('stops a GPU worker without GPUs, naming the host, the check and doctor\'s fix', async () => {
    const ctx = phaseContext('debian', { hosts: ['cp-1', 'gpu-1'] });
    const { targets } = targetsOf(ctx);
    const error = await doctorGate(targets, ctx, applier(ctx)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DoctorGateError);
    expect(error).toBeInstanceOf(PhaseError);
    const gate = error as DoctorGateError;
    expect(gate.exitCode).toBe(7);
    expect([...gate.failures.keys()]).toEqual(['gpu-1']);
    expect(gate.failures.get('gpu-1')!.message).toMatch(/^doctor: gpu-driver: no NVIDIA GPU on the PCI bus .*; fix: /);
    // Missing headers are gpu-driver's to judge (a precompiled module needs none): said, not blocking.
    expect(gate.failures.get('gpu-1')!.message).not.toContain('gpu-headers');
    expect(gate.hint).toMatch(/--allow-failed-check gpu-driver$/);
    // The recommendation is kept even when the gate stops the install.
    expect(ctx.state.doctorRecommendation).toBeDefined();
  });

  it('stops cloned nodes (same hostname and machine-id) on both hosts', async () => {
    const ctx = phaseContext('debian', { hosts: ['cp-1', 'cp-2'] });
    const error = (await doctorGate(targetsOf(ctx, true).targets, ctx, applier(ctx)).catch((e: unknown) => e)) as DoctorGateError;
    expect([...error.failures.keys()]).toEqual(['cp-1', 'cp-2']);
    expect(error.failures.get('cp-2')!.message).toContain('unique-identity: machine-id 2e5255a0ff604c90baa264857dcb3b42 is shared by cp-1, cp-2');
    expect(error.hint).toMatch(/--allow-failed-check unique-identity$/);
  });

  it('lets the same GPU worker through when its failed checks are allowed', async () => {
    const ctx = phaseContext('debian', { hosts: ['cp-1', 'gpu-1'] });
    const first = await doctorGate(targetsOf(ctx).targets, ctx, applier(ctx)).catch((e: unknown) => e as DoctorGateError);
    const ids = (first as DoctorGateError).hint!.split('--allow-failed-check ')[1]!.split(',');
    const again = { ...phaseContext('debian', { hosts: ['cp-1', 'gpu-1'] }), allowFailedChecks: ids };
    await doctorGate(targetsOf(again).targets, again, applier(again));
    expect(runWarnings(again)).toContainEqual(expect.stringMatching(/^doctor: gpu-1: gpu-driver: .*\(allowed by --allow-failed-check gpu-driver\)$/));
  });
});

describe('checkAllowedIds', () => {
  it('accepts doctor check ids and refuses unknown ones as bad input (exit 2)', () => {
    expect(() => checkAllowedIds(['vxlan-udp', 'ip-forward'])).not.toThrow();
    const error = (() => { try { checkAllowedIds(['vxlan-udp', 'vxlan']); } catch (e) { return e; } })();
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(2);
    expect((error as UserError).message).toBe('--allow-failed-check: no doctor check "vxlan"');
  });
});
