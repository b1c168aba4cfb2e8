import { describe, expect, it } from 'vitest';
import { INOTIFY_PER_NODE, MAX_LAB_NODES, inotifyInstancesNeeded, labVipOctet, neighbourLimitNeeded } from '../../src/lab/lab.ts';

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

  it.each([
    ['10 nodes on the default hard cap', 10, 1024, 1024, 1124],
    ['50 nodes: 2,450 entries between them', 50, 1024, 1024, 3524],
    ['100 nodes, soft cap', 100, 512, 512, 10512],
    ['a higher limit already set is kept', 50, 1024, 100000, 100000],
    ['a single node', 1, 1024, 1024, 1025],
  ])('neighbour table limit, %s', (_, count, base, current, wanted) => {
    expect(neighbourLimitNeeded(count, base, current)).toBe(wanted);
  });

  it('asks for enough inotify instances and never lowers the limit', () => {
    expect(inotifyInstancesNeeded(100, 128, 0)).toBe(100 * INOTIFY_PER_NODE + 128);
    expect(inotifyInstancesNeeded(100, 8192, 0)).toBe(8192);
    expect(inotifyInstancesNeeded(10, 128, 50)).toBe(50 + 10 * INOTIFY_PER_NODE + 128);
  });
});
