// Bench (not a test): start-up time and size of the single executable (dist/ferry, built when stale), against the
// source version under Node. Wall time per run, median and 90th percentile over N runs of each command.
//   npm run bench:sea -- [--runs 20]
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { ferryBinaryForBundle } from '../src/ship/ferry-binary.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
const runs = Number(values.runs);
const binary = await ferryBinaryForBundle();
const source = new URL('../bin/ferry.js', import.meta.url).pathname;

/** Wall-clock seconds of `runs` runs of argv (after one warm-up), as median and p90. */
function time(argv: string[]): { median: number; p90: number } {
  const once = () => {
    const t = performance.now();
    const r = spawnSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
    return (performance.now() - t) / 1000;
  };
  once();
  const xs = Array.from({ length: runs }, once).sort((a, b) => a - b);
  return { median: xs[Math.floor(runs / 2)]!, p90: xs[Math.min(runs - 1, Math.ceil(runs * 0.9) - 1)]! };
}

const rows: [string, string[]][] = [
  ['single executable: --version', [binary.path, '--version']],
  ['single executable: resolve --json', [binary.path, 'resolve', '--os', 'rocky-9.4', '--gpu', 'h100', '--k8s', '1.33', '--json']],
  ['node bin/ferry.js: --version', [process.execPath, source, '--version']],
  ['node bin/ferry.js: resolve --json', [process.execPath, source, 'resolve', '--os', 'rocky-9.4', '--gpu', 'h100', '--k8s', '1.33', '--json']],
];
console.log(`dist/ferry (${binary.origin}): ${(statSync(binary.path).size / 2 ** 20).toFixed(1)} MiB; ${runs} runs each; load average ${loadavg()[0]!.toFixed(1)}`);
console.log('| command | median | p90 |\n| --- | --- | --- |');
for (const [name, argv] of rows) {
  const t = time(argv);
  console.log(`| ${name} | ${t.median.toFixed(3)} s | ${t.p90.toFixed(3)} s |`);
}
