// Test helpers: run the real tools (haproxy, keepalived, nft, containerd, docker-registry) on rendered files.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

/** A private temporary directory, removed by the returned cleanup. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `ferry-render-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes `content` to `dir/name` and returns the path. */
export function put(dir: string, name: string, content: string, mode = 0o644): string {
  const path = join(dir, name);
  writeFileSync(path, content, { mode });
  return path;
}

/** Runs a tool with a timeout and returns its result without throwing on a non-zero exit. */
export async function tool(argv: readonly string[], timeoutMs = 20_000) {
  const [file, ...args] = argv;
  const result = await execa(file!, args, { reject: false, timeout: timeoutMs, all: true, stdin: 'ignore' });
  return { exitCode: result.exitCode ?? -1, output: result.all ?? '' };
}
