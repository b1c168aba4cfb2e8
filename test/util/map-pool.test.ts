import { describe, expect, it } from 'vitest';
import { mapPool } from '../../src/util/map-pool.ts';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('mapPool', () => {
  it('keeps input order and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapPool([5, 4, 3, 2, 1, 0], 2, async (n, i) => {
      peak = Math.max(peak, ++running);
      await tick();
      running--;
      return n * 10 + i;
    });
    expect(out).toEqual([50, 41, 32, 23, 14, 5]);
    expect(peak).toBe(2);
  });

  it('starts nothing new after the first failure and rejects with it once the running work settles', async () => {
    const started: number[] = [];
    const error = await mapPool([1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      await tick();
      if (n === 2) throw new Error('two failed');
      return n;
    }).catch((e: Error) => e);
    expect((error as Error).message).toBe('two failed');
    expect(started).toEqual([1, 2, 3]);
  });
});
