// Benchmark: ferry's streaming download (sha256 while writing) against curl, both from a loopback HTTP server.
// Run: node bench/files-download.ts [MiB]  (not a test; prints MB/s for each, best of 3). The server runs in a
// child process so that it does not share an event loop with the client being measured.
import { execFile, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { download } from '../src/bundle/http/download.ts';
import { startRangeServer } from '../test/support/range-server.ts';

const mib = Number(process.argv[2] ?? 256);
const bytes = mib * 1024 * 1024;
const run = promisify(execFile);

async function serve(): Promise<void> {
  const server = await startRangeServer({ '/blob': { body: randomBytes(bytes) } });
  process.send?.(server.url('/blob'));
  process.on('disconnect', () => void server.close().then(() => process.exit(0)));
}

async function best(label: string, once: (i: number) => Promise<void>): Promise<void> {
  let fastest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await once(i);
    fastest = Math.min(fastest, performance.now() - t);
  }
  console.log(`${label}: ${(bytes / 1e6 / (fastest / 1000)).toFixed(0)} MB/s (${mib} MiB in ${fastest.toFixed(0)} ms)`);
}

async function measure(): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), [String(mib), 'serve']);
  const url = await new Promise<string>((resolve) => child.once('message', (m) => resolve(String(m))));
  const dir = await mkdtemp(join(tmpdir(), 'ferry-bench-'));
  try {
    await best('ferry download (sha256 while streaming)', (i) => download({ url, dest: join(dir, `ferry-${i}`) }).then(() => undefined));
    await best('curl -o (no hash)', (i) => run('curl', ['-sS', '-o', join(dir, `curl-${i}`), url]).then(() => undefined));
    await best('curl -o, then sha256sum', (i) =>
      run('sh', ['-c', 'curl -sS -o "$1" "$2" && sha256sum "$1" >/dev/null', 'sh', join(dir, `curlh-${i}`), url]).then(() => undefined),
    );
  } finally {
    child.disconnect();
    await rm(dir, { recursive: true, force: true });
  }
}

await (process.argv[3] === 'serve' ? serve() : measure());
