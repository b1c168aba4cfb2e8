// copy-bundle in seed mode on four lab nodes (systemd-nspawn Debian 12, test/lab): the admin host uploads the
// bundle's files to the seed (cp1) only; w1..w3 fetch them from the seed's temporary HTTP server; every node's
// copy verifies with sha256sum; the server is gone afterwards; a re-run copies nothing; a file one node lost is
// fetched alone. The bundle is the README walkthrough's (test/install/support/site-bundle.ts: resolve, bundle build
// with the shipped spec against the upstream replica, verify), so what is copied is what a site copies: the Debian
// repository with containerd.io and its closure, and the registry binary (about 100 MB, 140 files).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { BundleLayout } from '../../src/bundle/layout.ts';
import { nodeBundleFiles, type NodeBundleFile } from '../../src/phases/bundle-on-node.ts';
import { startLab, type Lab } from '../lab/lab.ts';
import { siteBundle, siteManifest, type SiteBundle, ferry } from './support/site-bundle.ts';
import { auditRecords } from './support/converged.ts';

const NODES = ['cp1', 'w1', 'w2', 'w3'];
let lab: Lab;
let site: SiteBundle;
let args: string[];
let stateDir: string;
/** What copy-bundle carries to every node: the lock's OS repository and the plain files. */
let files: NodeBundleFile[];
const figures: string[] = [];

const sumsCommand = () => `cd /var/lib/ferry/bundle && sha256sum ${files.map((f) => f.path).join(' ')}`;

const audit = () => auditRecords(stateDir);

beforeAll(async () => {
  lab = await startLab({ nodes: NODES });
  site = await siteBundle(join(lab.stateDir, 'walkthrough'));
  const bundle = site.dir;
  files = nodeBundleFiles(await siteManifest(site), site.lock.stack.os);
  const playbook = join(lab.stateDir, 'seed-copy.yaml');
  await writeFile(playbook, stringify({ apiVersion: 'ferry.dev/v1alpha1', kind: 'Playbook', name: 'seed-copy', phases: ['preflight', { phase: 'copy-bundle', with: { mode: 'seed' } }] }));
  const inventory = await lab.writeInventory({ roles: { cp1: ['control-plane'], w1: ['worker'], w2: ['worker'], w3: ['worker'] }, extra: { network: { controlPlaneEndpoint: `${lab.hostAddress}:8443`, loadBalancer: 'node-local' } } });
  stateDir = join(lab.stateDir, 'seed-state');
  args = ['install', '-i', inventory, '--bundle', bundle, '--playbook', playbook, '--state-dir', stateDir, '--only', 'preflight,copy-bundle'];
});

afterAll(async () => {
  if (figures.length) console.log(`[seed-copy] figures:\n  ${figures.join('\n  ')}`);
  await site?.replica.stop();
  await lab?.stop();
});

describe('copy-bundle, seed mode', () => {
  it('uploads to the seed only, the others fetch from it, and every copy verifies', async () => {
    const r = await ferry(args);
    expect(r.code, r.err).toBe(0);
    const bytes = files.reduce((s, f) => s + f.size, 0);
    figures.push(`preflight + seed copy of ${files.length} files, ${(bytes / (1 << 20)).toFixed(1)} MiB to 4 nodes: ${r.ms} ms`);
    const records = (await audit()).filter((a) => a.phase === 'copy-bundle');
    const uploads = records.filter((a) => a.op === 'upload');
    expect(new Set(uploads.map((u) => u.host))).toEqual(new Set(['cp1']));
    expect(uploads).toHaveLength(files.length);
    for (const n of ['w1', 'w2', 'w3']) expect(records.filter((a) => a.host === n && /python3 -$/.test(a.command) && a.exitCode === 0)).toHaveLength(1);
    const servers = records.filter((a) => a.host === 'cp1' && a.command.includes('seed server'));
    expect(servers).toHaveLength(1);
    expect(records.filter((a) => a.host === 'cp1' && /^kill -- \d+$/.test(a.command))).toHaveLength(1);
    for (const n of NODES) {
      expect(r.out).toContain(`${n}: copied ${files.length} file(s), ${bytes} bytes`);
      const check = await lab.nodeExec(n, ['sh', '-c', `${sumsCommand()} && ls -R | grep -c partial || true`]);
      expect(check.stdout.trim().split('\n').at(-1)).toBe('0');
    }
    const sums = await Promise.all(NODES.map((n) => lab.nodeExec(n, ['sh', '-c', sumsCommand()])));
    for (const s of sums) expect(s.stdout).toBe(sums[0]!.stdout);
    // ...and they are the manifest's sums.
    expect(sums[0]!.stdout).toBe(files.map((f) => `${f.sha256}  ${f.path}\n`).join(''));
    // The server stopped: nothing listens on the seed's port any more.
    const port = /"port":(\d+)/.exec(servers[0]!.command)![1];
    expect((await lab.nodeExec('cp1', ['sh', '-c', `ss -Htln 'sport = :${port}'`])).stdout.trim()).toBe('');
  });

  it('a re-run copies nothing and runs no mutating command', async () => {
    const start = (await audit()).length;
    const r = await ferry(args);
    expect(r.code, r.err).toBe(0);
    const records = (await audit()).slice(start);
    expect(records.filter((a) => a.readOnly !== true)).toEqual([]);
    expect(r.out).not.toContain('copied');
  });

  it('fetches only the missing file again when one node lost it', async () => {
    // The registry binary (files/registry/<version>/registry), the largest file after containerd.io.
    const lost = files.find((f) => f.path.startsWith(`${BundleLayout.filesDir}/`))!;
    await lab.nodeExec('w2', ['rm', '-f', `/var/lib/ferry/bundle/${lost.path}`]);
    const r = await ferry(args);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(new RegExp(`^w2: copied 1 file\\(s\\), ${lost.size} bytes`, 'm'));
    expect(r.out).not.toMatch(/^(cp1|w1|w3): copied/m);
  });
});
