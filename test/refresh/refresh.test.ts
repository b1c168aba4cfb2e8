// `ferry matrix refresh` against recorded responses (test/fixtures/refresh, see its README) served from a loopback
// HTTP server: an unchanged matrix gives an empty diff, a new patch and a moved end of life show up, --write applies
// them with source and date and keeps the files' comments.
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_MATRIX_DIR } from '../../src/matrix/load.ts';
import { dayOf } from '../../src/matrix/version.ts';
import { runFerry } from '../cli/support/run-ferry.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/refresh/', import.meta.url));
/** Every source with a recorded response (Cilium and Flannel have none). */
const RECORDED = ['kubernetes', 'containerd', 'runc', 'cri-o', 'calico', 'runc-advisories', 'nvidia', 'ubuntu'];

let server: Server;
let base: string;
/** Per-test edits of what the server returns: path → function of the recorded text. */
let edits: Record<string, (text: string) => string> = {};
let dir: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '');
    let file = join(FIXTURES, path);
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      const text = readFileSync(file, 'utf8');
      res.end((edits[path] ?? ((t: string) => t))(text));
    } catch {
      res.statusCode = 404;
      res.end('not recorded');
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((ok) => server.close(() => ok())));
beforeEach(() => {
  edits = {};
  dir = mkdtempSync(join(tmpdir(), 'ferry-refresh-'));
  cpSync(DEFAULT_MATRIX_DIR, dir, { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const refresh = (...args: string[]) =>
  runFerry('matrix', 'refresh', '--matrix', dir, '--source-base', base, ...RECORDED.flatMap((s) => ['--source', s]), ...args);

/** One pkt-line of a ref advertisement. */
const pkt = (line: string) => `${(line.length + 4).toString(16).padStart(4, '0')}${line}`;
const addTag = (tag: string) => (text: string) => text.replace(/0000$/, `${pkt(`${'a'.repeat(40)} refs/tags/${tag}\n`)}0000`);

describe('ferry matrix refresh', () => {
  it('finds nothing to change when the sources say what the matrix says, and exits 0', async () => {
    const r = await refresh();
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^matrix up to date with its sources \(8 read\)/);
    const json = await refresh('--json');
    expect(JSON.parse(json.out)).toMatchObject({ changes: [], unreachable: [], applied: 0 });
  });

  it('reports a new containerd patch, and --write records it with its tag URL and the date, keeping comments', async () => {
    edits['github.com/containerd/containerd.git/info/refs'] = addTag('v2.3.99');
    const r = await refresh('--json');
    expect(r.code).toBe(0);
    const { changes } = JSON.parse(r.out) as { changes: { kind: string; subject: string; from: string; to: string; writable: boolean }[] };
    expect(changes).toEqual([expect.objectContaining({ kind: 'new-patch', subject: 'containerd 2.3', from: '2.3.4', to: '2.3.99', writable: true })]);

    const w = await refresh('--write');
    expect(w.code).toBe(0);
    expect(w.out).toMatch(/applied 1 change\(s\) to containerd\.yaml/);
    const text = readFileSync(join(dir, 'containerd.yaml'), 'utf8');
    expect(text).toContain('# containerd release branches');
    expect(text).toContain('latest: "2.3.99"');
    expect(text).toContain('source: https://github.com/containerd/containerd/releases/tag/v2.3.99');
    expect(text).toContain(`read: "${dayOf(new Date())}"`);
    expect((await refresh()).out).toMatch(/^matrix up to date/);
  });

  it('reports a moved Kubernetes end of life and writes it', async () => {
    edits['raw.githubusercontent.com/kubernetes/website/main/data/releases/schedule.yaml'] = (t) => t.replace('endOfLifeDate: "2027-06-28"', 'endOfLifeDate: "2027-07-15"');
    const r = await refresh('--json');
    const { changes } = JSON.parse(r.out) as { changes: unknown[] };
    expect(changes).toEqual([expect.objectContaining({ kind: 'eol-changed', subject: 'kubernetes 1.36', field: 'eol', from: '2027-06-28', to: '2027-07-15' })]);
    await refresh('--write');
    expect(readFileSync(join(dir, 'kubernetes.yaml'), 'utf8')).toContain('eol: "2027-07-15"');
  });

  it('adds a new Kubernetes minor that stays unchosen until its containerd row and kubeadm images are read', async () => {
    edits['raw.githubusercontent.com/kubernetes/website/main/data/releases/schedule.yaml'] = (t) =>
      t.replace('schedules:\n', 'schedules:\n- endOfLifeDate: "2028-02-28"\n  previousPatches:\n  - release: 1.38.0\n    targetDate: "2026-12-17"\n  release: "1.38"\n  releaseDate: "2026-12-17"\n');
    const w = await refresh('--write');
    expect(w.err).toBe('');
    expect(w.out).toMatch(/new-line\s+kubernetes 1\.38/);
    const k = readFileSync(join(dir, 'kubernetes.yaml'), 'utf8');
    expect(k).toContain('minor: "1.38"');
    const res = await runFerry('resolve', '--os', 'ubuntu-24.04', '--matrix', dir, '--json');
    expect(res.code).toBe(0);
    expect(JSON.parse(res.out).stack.kubernetes).toBe('1.36.4');
  });

  it('names a new runc advisory as a floor to read, and never writes it', async () => {
    edits['api.github.com/repos/opencontainers/runc/security-advisories'] = (t) =>
      t.replace('[', '[{"ghsa_id": "GHSA-test-only-0001", "cve_id": "CVE-2099-0001", "html_url": "https://github.com/opencontainers/runc/security/advisories/GHSA-test-only-0001", "severity": "high", "vulnerabilities": [{"patched_versions": "1.4.9, 1.5.3"}]},');
    const r = await refresh('--write');
    expect(r.out).toMatch(/cve-floor\s+runc CVE-2099-0001\s+-\s+1\.4\.9, 1\.5\.3\s+read/);
    expect(readFileSync(join(dir, 'runc.yaml'), 'utf8')).not.toContain('CVE-2099-0001');
  });

  it('reports a new NVIDIA driver branch as a page to read', async () => {
    edits['developer.download.nvidia.com/compute/nvidia-driver/redist'] = (t) => t.replace('</pre>', '<a href="redistrib_630.10.01.json">redistrib_630.10.01.json</a>\n</pre>');
    edits['developer.download.nvidia.com/compute/nvidia-driver/redist/'] = edits['developer.download.nvidia.com/compute/nvidia-driver/redist'];
    const r = await refresh('--json');
    const { changes } = JSON.parse(r.out) as { changes: unknown[] };
    expect(changes).toEqual([expect.objectContaining({ kind: 'new-line', subject: 'R630', writable: false })]);
  });

  it('names a source it could not read and exits 5', async () => {
    const r = await runFerry('matrix', 'refresh', '--matrix', dir, '--source-base', base, '--source', 'flannel');
    expect(r.code).toBe(5);
    expect(r.err).toMatch(/flannel \(http:\/\/127\.0\.0\.1:\d+\/github\.com\/flannel-io\/flannel\.git\/info\/refs\?service=git-upload-pack: HTTP 404\)/);
  });
});
