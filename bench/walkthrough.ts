// Figure: the README's internet-side walkthrough against the offline replica (test/install/support/site-bundle.ts):
// resolve, bundle build from the shipped spec with --mirrors, verify; once with an empty download cache (cold) and
// once again with it (warm), and the bundle's size by kind. `sha256sum -c` over the same bundle runs beside verify.
// Needs root (the lab cache dir). Usage: node bench/walkthrough.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { formatBytes, readBundleManifest, summarize } from '../src/bundle/inspect.ts';
import { siteBundle } from '../test/install/support/site-bundle.ts';

const work = await mkdtemp(join(tmpdir(), 'ferry-bench-walkthrough-'));
const cache = join(work, 'cache');
try {
  for (const run of ['cold', 'warm'] as const) {
    const started = performance.now();
    const b = await siteBundle(join(work, run), { cache });
    const total = Math.round(performance.now() - started);
    await b.replica.stop();
    const t = performance.now();
    await execa('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: b.dir });
    const sha = Math.round(performance.now() - t);
    console.log(`${run}: resolve ${b.timings.resolve} ms, replica up ${b.timings.replica} ms, bundle build ${b.timings.build} ms, verify ${b.timings.verify} ms (sha256sum -c ${sha} ms), total ${total} ms`);
    if (run === 'warm') {
      const s = summarize(await readBundleManifest(b.dir));
      console.log(`bundle: ${s.kinds.map((k) => `${k.kind} ${k.count} files ${formatBytes(k.bytes)}`).join("; ")}; total ${formatBytes(s.total.bytes)}`);
    }
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
