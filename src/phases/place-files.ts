// Putting rendered files onto a node safely: compare by sha256 first (read-only, one round trip for many files),
// stage a changed file, run its tool's check on the staged copy, and only then move it into place.
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { Host } from '../hosts/host.ts';
import { sh, type ShellCommand } from '../hosts/shell.ts';
import { verifyArgv, type RenderedFile } from '../render/file.ts';
import { FERRY_STATE_DIR } from './os/family.ts';

export const STAGING_DIR = `${FERRY_STATE_DIR}/staging`;

/** sha256 of a file's content as sha256sum prints it. */
export function contentDigest(content: string | Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

/** `sha256sum` output (`<hex>  <path>` lines) as path → hex. */
export function parseSha256sum(output: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of output.split('\n')) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (m) out.set(m[2]!, m[1]!);
  }
  return out;
}

/** The files whose content on the node differs from `files` (missing ones included). Read-only. */
export async function filesToChange(host: Host, files: readonly RenderedFile[]): Promise<RenderedFile[]> {
  if (files.length === 0) return [];
  const r = await host.exec(['sha256sum', '--', ...files.map((f) => f.path)], { allowFailure: true });
  const have = parseSha256sum(r.stdout);
  return files.filter((f) => have.get(f.path) !== contentDigest(f.content));
}

/** The one command that checks a staged file (when its tool can) and moves it into place. */
export function installStagedCommand(file: RenderedFile, staged: string): ShellCommand {
  const check = verifyArgv(file, staged);
  const install = sh`install -D -m ${file.mode.toString(8)} ${staged} ${file.path} && rm -f ${staged}`;
  return check ? sh`${check} && ${install}` : install;
}

/** Files without a check first: a checked file may name them (keepalived.conf names its check script). */
export function placementOrder(files: readonly RenderedFile[]): RenderedFile[] {
  return [...files.filter((f) => !f.verify), ...files.filter((f) => f.verify)];
}

/** Stage, check and place each file; secrets in a file are passed on so they are redacted everywhere. */
export async function placeFiles(host: Host, files: readonly RenderedFile[]): Promise<void> {
  for (const file of placementOrder(files)) {
    const staged = `${STAGING_DIR}/${posix.basename(file.path)}`;
    await host.writeFile(staged, file.content, { mode: 0o600 });
    await host.exec(installStagedCommand(file, staged), { secrets: file.secrets });
  }
}
