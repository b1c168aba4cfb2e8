// `ferry registry status`: per replica, the service is active and its files are as rendered; per node, every
// bundle image resolves by digest on every replica through the node's own TLS trust (curl with ferry's CA, as
// containerd would reach it). Deciding parts are pure; the CLI runs the commands.
import { sh, type ShellCommand } from '../hosts/shell.ts';
import type { RenderedFile } from '../render/file.ts';
import type { PlannedImage } from './layout-plan.ts';

export interface StatusFinding {
  host: string;
  check: string;
  ok: boolean;
  message: string;
}

const ACCEPT = 'application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';

/** A script for one node: HEAD every image's manifest by digest on every replica; prints `FAIL <replica> <repo>@<digest> <code>` per miss. */
export function nodeResolveScript(replicas: readonly string[], images: readonly PlannedImage[], caPath: string): ShellCommand {
  const urls = replicas.flatMap((r) => images.map((i) => `https://${r}/v2/${i.repository}/manifests/${i.digest}`));
  return sh`for u in ${urls}; do c=$(curl -s -o /dev/null -w '%{http_code}' --connect-timeout 3 -I -H ${`Accept: ${ACCEPT}`} --cacert ${caPath} "$u"); [ "$c" = 200 ] || echo "FAIL $u $c"; done; true`;
}

/** Turns the script's output into findings: one failing finding per line, or one passing finding. */
export function judgeNodeResolve(host: string, output: string, checked: number): StatusFinding[] {
  const misses = output.split('\n').filter((l) => l.startsWith('FAIL '));
  if (misses.length === 0) return [{ host, check: 'images resolve by digest', ok: true, message: `${checked} manifest lookups, all 200` }];
  return misses.map((l) => {
    const [, url, code] = l.split(' ');
    return { host, check: 'images resolve by digest', ok: false, message: `${url} answered ${code === '000' ? 'nothing (no connection or TLS failure)' : `HTTP ${code}`}` };
  });
}

/** Judges one replica's service state and files against what ferry renders for it. */
export function judgeReplica(host: string, active: string, files: readonly { file: RenderedFile; onNode: string | undefined }[]): StatusFinding[] {
  const findings: StatusFinding[] = [
    { host, check: 'service', ok: active.trim() === 'active', message: `ferry-registry.service is ${active.trim() || 'unknown'}` },
  ];
  for (const { file, onNode } of files) {
    const ok = onNode === file.content;
    findings.push({ host, check: file.path, ok, message: ok ? 'as rendered' : onNode === undefined ? 'missing' : 'differs from what ferry renders (run ferry registry deploy)' });
  }
  return findings;
}
