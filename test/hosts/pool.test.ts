import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { DEFAULT_HOST_CONCURRENCY, mapHosts } from '../../src/hosts/pool.ts';

const hosts = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `h${i}` }));

describe('mapHosts', () => {
  it('never runs more than the limit at once, and uses the whole limit', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapHosts(hosts(20), async (h) => {
      running++;
      peak = Math.max(peak, running);
      await sleep(5);
      running--;
      return h.name.toUpperCase();
    }, { concurrency: 4 });
    expect(peak).toBe(4);
    expect(out.map((o) => (o.ok ? o.value : null))).toEqual(hosts(20).map((h) => h.name.toUpperCase()));
  });

  it('keeps going when hosts fail, and reports each failure with its host', async () => {
    const seen: string[] = [];
    const out = await mapHosts(hosts(6), async (h) => {
      seen.push(h.name);
      if (h.name === 'h1' || h.name === 'h4') throw new Error(`${h.name} is down`);
      return 1;
    }, { concurrency: 2 });
    expect(seen.sort()).toEqual(hosts(6).map((h) => h.name));
    expect(out.filter((o) => !o.ok).map((o) => [o.host, (o as { error: Error }).error.message])).toEqual([
      ['h1', 'h1 is down'],
      ['h4', 'h4 is down'],
    ]);
    expect(out.filter((o) => o.ok)).toHaveLength(4);
  });

  it('defaults to DEFAULT_HOST_CONCURRENCY (50) at once and returns outcomes in input order even when they finish out of order', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapHosts(hosts(60), async (h) => {
      running++;
      peak = Math.max(peak, running);
      await sleep(40 - Number(h.name.slice(1)));
      running--;
      return h.name;
    });
    expect(peak).toBe(DEFAULT_HOST_CONCURRENCY);
    expect(out.map((o) => o.host)).toEqual(hosts(60).map((h) => h.name));
  });

  it('handles no hosts', async () => {
    expect(await mapHosts([], async () => 1)).toEqual([]);
  });
});
