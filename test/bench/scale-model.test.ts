import { describe, expect, it } from 'vitest';
import { concurrencyFor, estimate, waves, type ModelInput } from '../../bench/scale-model.ts';

const MiB = 1 << 20;
const model: ModelInput = {
  phases: [{ id: 'a', perNodeS: 10 }, { id: 'b', perNodeS: 5 }],
  concurrency: 50,
  adminCpuPerNodeS: 0.2,
  adminCpuFlatS: 2,
  nodeBundleBytes: 100 * MiB,
  imageBytesPerNode: 300 * MiB,
  replicas: 3,
  bytesPerReplica: 25 * MiB,
  adminBytesPerNode: 0.5 * MiB,
  adminLinkBps: 100 * MiB,
  nodeLinkBps: 1000 * MiB,
};

describe('scale model', () => {
  it('counts waves of concurrency hosts', () => {
    expect([waves(1, 30), waves(30, 30), waves(31, 30), waves(500, 30)]).toEqual([1, 1, 2, 17]);
  });

  it('grows per-node phases by waves and keeps the bundle on the admin link flat', () => {
    const e100 = estimate(model, 100);
    const e500 = estimate(model, 500);
    expect(e100.phaseS).toEqual({ a: 20, b: 10 });
    expect(e500.phaseS).toEqual({ a: 100, b: 50 });
    // Bundle once, replicas once, only the per-node SSH traffic grows.
    expect(e500.adminLinkBytes - e100.adminLinkBytes).toBe(400 * 0.5 * MiB);
    expect(e500.seedFanOutS).toBeCloseTo((499 * 100) / 1000);
    expect(e500.pullStormS).toBeCloseTo((500 * 300) / 3000);
    expect(e500.adminCpuS).toBeCloseTo(102);
    expect(e500.sshConnections).toBe(500);
    expect(e500.totalS).toBeCloseTo(150 + e500.seedFanOutS + e500.adminLinkS + e500.pullStormS);
  });

  it('is bound below by the admin CPU when that is the longest part', () => {
    const slow = estimate({ ...model, adminCpuPerNodeS: 5 }, 1000);
    expect(slow.totalS).toBeCloseTo(2 + 5000 + slow.pullStormS);
    expect(slow.adminCpuShare).toBe(1);
  });

  it('picks the concurrency that keeps the admin CPU under a share of one core', () => {
    // 15 s of node work per node, 0.2 s admin CPU per node: 37 nodes at once use half a core.
    expect(concurrencyFor(model, 0.5)).toBe(37);
  });
});

describe('scale model, replica-only phases', () => {
  it('runs a replicas phase once, whatever N', () => {
    const m = { ...model, phases: [{ id: 'registry', perNodeS: 4, on: 'replicas' as const }] };
    expect(estimate(m, 1).phaseS).toEqual({ registry: 4 });
    expect(estimate(m, 1000).phaseS).toEqual({ registry: 4 });
  });
});
