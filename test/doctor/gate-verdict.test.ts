import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/checks/types.ts';
import { judgeGate } from '../../src/doctor/gate-verdict.ts';
import { buildReport, type DoctorReport } from '../../src/doctor/model.ts';
import { testPlan } from '../checks/context.ts';
import { fixtureFacts } from '../facts/fixtures.ts';

// A real report frame (the lab node's gather.sh output, test/fixtures/facts) whose findings each row replaces.
const frame = buildReport({
  cluster: 'lab', generatedAt: new Date('2026-11-23T12:00:00Z'), plan: testPlan(), probes: undefined, selection: { only: ['swap'] },
  gathered: [{ name: 'cp1', address: '10.251.0.11', roles: ['control-plane'], facts: fixtureFacts('debian12-lab-node', 'cp1') }],
});
const report = (findings: Finding[], hosts: DoctorReport['hosts'] = frame.hosts): DoctorReport => ({ ...frame, hosts, findings });

// Findings worded as doctor words them (src/checks/node-basics.ts, network/probe-findings.ts, local-ports.ts).
const ipForward: Finding = { check: 'ip-forward', host: 'cp1', status: 'fail', message: 'net.ipv4.ip_forward = 0: pods cannot reach other nodes (kubeadm preflight fails)', remedy: 'echo net.ipv4.ip_forward=1 > /etc/sysctl.d/99-kubernetes.conf && sysctl --system' };
const vxlanBlocked: Finding = { check: 'vxlan-udp', pair: { from: 'w1', to: 'cp1' }, status: 'fail', message: 'UDP 4789 (VXLAN) from w1 never reached cp1', remedy: 'open UDP 4789 on cp1 to w1' };
const keyring: Finding = { check: 'kernel-keyring', host: 'w1', status: 'fail', message: 'kernel.keys.root_maxkeys = 200', remedy: 'raise it' };
const cgroupWarn: Finding = { check: 'cgroup-version', host: 'cp1', status: 'warn', message: 'cgroup v1: works with Kubernetes 1.33' };
const oldRuntime: Finding = { check: 'container-runtime', host: 'cp1', status: 'fail', message: 'containerd 1.6.20 is below the minimum for Kubernetes 1.33 (containerd RELEASES.md)', remedy: 'remove it and let ferry install the containerd from the bundle' };
// The wording of src/checks/gpu.ts on a lab GPU node whose repo carries a precompiled module instead of headers.
const noHeaders: Finding = { check: 'gpu-headers', host: 'g1', status: 'fail', message: 'linux-headers-6.18.44-fc-v782 is not installed: the driver cannot build its kernel module for the running kernel', remedy: 'apt-get install linux-headers-6.18.44-fc-v782 (from the bundle repository)' };
const mtuPass: Finding = { check: 'mtu', status: 'pass', message: 'every node has MTU 1500' };
const identity: Finding = { check: 'unique-identity', status: 'fail', message: 'machine-id repeats on cp1, w1' };

describe('judgeGate', () => {
  it.each([
    { name: 'passes and warnings never stop', findings: [mtuPass, cgroupWarn], allowed: [], blocking: {}, warnings: 1 },
    { name: 'a pair failure stops at the receiving host, with the fix', findings: [vxlanBlocked], allowed: [], blocking: { cp1: ['vxlan-udp (w1→cp1): UDP 4789 (VXLAN) from w1 never reached cp1; fix: open UDP 4789 on cp1 to w1'] }, warnings: 0 },
    { name: 'an allowed check only warns', findings: [vxlanBlocked], allowed: ['vxlan-udp'], blocking: {}, warnings: 1 },
    { name: 'a check install fixes itself only warns', findings: [ipForward], allowed: [], blocking: {}, warnings: 1 },
    { name: 'the runtime install put there (a converged re-run) only warns', findings: [oldRuntime], allowed: [], blocking: {}, warnings: 1 },
    { name: 'missing headers only warn: the gpu-driver phase decides (precompiled, DKMS, or a refusal before any change)', findings: [noHeaders], allowed: [], blocking: {}, warnings: 1 },
    { name: 'each failed check is listed per host; cluster-wide ones under cluster', findings: [keyring, vxlanBlocked, identity], allowed: [], blocking: { w1: ['kernel-keyring: kernel.keys.root_maxkeys = 200; fix: raise it'], cp1: [expect.stringMatching(/^vxlan-udp/)], cluster: ['unique-identity: machine-id repeats on cp1, w1'] }, warnings: 0 },
    { name: 'allowing one check leaves the others blocking', findings: [keyring, vxlanBlocked], allowed: ['kernel-keyring'], blocking: { cp1: [expect.stringMatching(/^vxlan-udp/)] }, warnings: 1 },
  ])('$name', ({ findings, allowed, blocking, warnings }) => {
    const v = judgeGate(report(findings), allowed);
    expect(Object.fromEntries(v.blocking)).toEqual(blocking);
    expect(v.warnings).toHaveLength(warnings);
  });

  it('says why a handled or allowed failure did not stop the install', () => {
    expect(judgeGate(report([ipForward]), []).warnings[0]).toMatch(/^doctor: cp1: ip-forward: .* \(install goes on: the os-prepare phase sets net\.ipv4\.ip_forward = 1/);
    expect(judgeGate(report([vxlanBlocked]), ['vxlan-udp']).warnings[0]).toMatch(/\(allowed by --allow-failed-check vxlan-udp\)$/);
  });

  it('names the failed check ids for the --allow-failed-check hint, once each', () => {
    const second = { ...vxlanBlocked, pair: { from: 'w2', to: 'cp1' } };
    expect(judgeGate(report([vxlanBlocked, second, keyring]), []).blockingIds).toEqual(['vxlan-udp', 'kernel-keyring']);
  });

  it('stops on a host doctor could not check', () => {
    const hosts = [...frame.hosts, { name: 'w9', address: '10.251.0.99', roles: ['worker' as const], reachable: false, error: 'facts script failed (exit 2)' }];
    expect(Object.fromEntries(judgeGate(report([], hosts), []).blocking)).toEqual({ w9: ['doctor could not check this host: facts script failed (exit 2)'] });
  });
});
