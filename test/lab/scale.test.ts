import { describe, expect, it } from 'vitest';
import { INOTIFY_PER_NODE, MAX_LAB_NODES, inotifyInstancesNeeded, labVipOctet } from '../../src/lab/lab.ts';

describe('lab sizing', () => {
  it('keeps the VIP off every node address', () => {
    for (const count of [1, 5, 89, 90, 100, MAX_LAB_NODES]) {
      const vip = labVipOctet(count);
      expect(vip >= 11 && vip < 11 + count).toBe(false);
      expect(vip).toBeLessThan(255);
    }
    expect(labVipOctet(5)).toBe(100);
    expect(11 + MAX_LAB_NODES - 1).toBeLessThan(254);
  });

  it('asks for enough inotify instances and never lowers the limit', () => {
    expect(inotifyInstancesNeeded(100, 128, 0)).toBe(100 * INOTIFY_PER_NODE + 128);
    expect(inotifyInstancesNeeded(100, 8192, 0)).toBe(8192);
    expect(inotifyInstancesNeeded(10, 128, 50)).toBe(50 + 10 * INOTIFY_PER_NODE + 128);
  });
});
