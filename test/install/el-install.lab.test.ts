// The README's walkthrough on EL lab nodes (src/lab/el/: Debian's real dnf and rpm own everything ferry installs on a
// node whose os-release says Rocky Linux 9.4 and whose rpm database holds a minimal install's base set): `ferry resolve
// --os rocky-9.4`, `ferry bundle build` with the SHIPPED spec against the replica's EL repositories (Docker's
// containerd.io, pkgs.k8s.io's rpm repo with the kube STAND-INs, Rocky's BaseOS/AppStream, all signed, gpgcheck=1),
// `ferry bundle verify`, then `ferry install` from that bundle on three EL control planes behind the VIP and an EL
// worker: the cluster converges, a re-run changes nothing, `ferry add-node` joins a second EL worker, and reset gives
// back the exact `rpm -qa` and /etc. ferry's EL family code path runs unchanged. One lab for the file.
//
// The cluster is mixed, as sites' are: a Debian 12 worker (d1) joins it from the same bundle. The lock is resolved for
// both releases (`ferry resolve --os rocky-9.4 --os debian-12`), the bundle carries one repository per release
// (packages/rocky-9.4/x86_64 with dnf metadata and keys, packages/debian-12/amd64 flat for apt), and each node uses
// its own OS's; reset gives d1 back its dpkg state and /etc.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { UPSTREAM } from '../../src/replica/upstreams.ts';
import { startLab, type Lab } from '../lab/lab.ts';
import { addressIn } from '../lab/subnet.ts';
import { siteBundle, siteManifest, type SiteBundle, ferry } from './support/site-bundle.ts';
import { auditRecords } from './support/converged.ts';
import type { AuditRecord } from '../../src/state/audit.ts';
import { lockOses, osName } from '../../src/config/lock-os.ts';

const OS = 'rocky-9.4';
/** The Debian worker's release: the bundle is built for both (one lock, one bundle). */
const DEBIAN = 'debian-12';
/** Three EL control planes behind the VIP, an EL worker and a Debian worker; `ferry add-node` joins a second EL worker later. */
const NODES = ['cp1', 'cp2', 'cp3', 'd1', 'w1'];
const ADDED = 'w2';
const ALL = [...NODES, ADDED];
const DEBIAN_NODES = new Set(['d1']);
const EL_NODES = ALL.filter((n) => !DEBIAN_NODES.has(n));
let lab: Lab;
let site: SiteBundle;
let inventory: string;
let inventoryWithAdded: string;
let stateDir: string;
const before = new Map<string, { packages: string; etc: string; accounts: string }>();
const figures: string[] = [];

const installArgs = () => ['install', '-i', inventory, '--bundle', site.dir, '--state-dir', stateDir];
const kubectl = (...args: string[]) => ['kubectl', '--kubeconfig', '/etc/kubernetes/admin.conf', ...args];

/** What reset must give back: rpm's package list (NEVRA), every path under /etc with its hash or link target, and the
 * accounts. The account files are compared by their entries (`accounts`), not by their bytes: EL's haproxy package
 * makes a system user at install and, like every EL package, never removes it (docs/lab.md, "EL nodes"). */
async function nodeState(node: string) {
  if (DEBIAN_NODES.has(node)) return debianState(node);
  const packages = (await lab.nodeExec(node, ['sh', '-c', "rpm -qa --qf '%{NAME}-%{EVR}.%{ARCH}\\n' | sort"])).stdout;
  const accounts = (await lab.nodeExec(node, ['sh', '-c', 'cut -d: -f1 /etc/passwd | sort; echo --; cut -d: -f1 /etc/group | sort'])).stdout;
  const etc = (await lab.nodeExec(node, ['sh', '-c', "find /etc -xdev \\( -name passwd -o -name group -o -name shadow -o -name gshadow -o -name passwd- -o -name group- -o -name shadow- -o -name gshadow- \\) -prune -o \\( -type f -exec sha256sum {} + \\) -o \\( -type l -printf '%p -> %l\\n' \\) -o \\( -type d -printf '%p/\\n' \\) | sort"])).stdout;
  return { packages, etc, accounts };
}

/** The Debian node's: dpkg's package list with versions and states, and /etc as install.lab.test.ts reads it (shadow's
 * backup files left out, the account files themselves compared). */
async function debianState(node: string) {
  const packages = (await lab.nodeExec(node, ['dpkg-query', '-W', '-f', '${Package} ${Version} ${db:Status-Abbrev}\n'])).stdout;
  const etc = (await lab.nodeExec(node, ['sh', '-c', "find /etc -xdev \\( -name passwd- -o -name group- -o -name shadow- -o -name gshadow- \\) -prune -o \\( -type f -exec sha256sum {} + \\) -o \\( -type l -printf '%p -> %l\\n' \\) -o \\( -type d -printf '%p/\\n' \\) | sort"])).stdout;
  return { packages, etc, accounts: '' };
}

const audit = () => auditRecords(stateDir);

beforeAll(async () => {
  let t = performance.now();
  // Nodes not in `os` boot Debian 12.
  lab = await startLab({ nodes: ALL, os: Object.fromEntries(EL_NODES.map((n) => [n, OS])) });
  figures.push(`EL lab up (${ALL.length} nodes, image cached or built): ${Math.round(performance.now() - t)} ms; boot per node ${lab.nodes.map((n) => `${n.name} ${n.bootMs} ms`).join(', ')}`);
  stateDir = join(lab.stateDir, 'ferry-state');
  t = performance.now();
  site = await siteBundle(join(lab.stateDir, 'walkthrough'), { os: [OS, DEBIAN] });
  figures.push(`walkthrough (internet side, ${OS} + ${DEBIAN}): ${Math.round(performance.now() - t)} ms (replica ${site.timings.replica} ms, build ${site.reused ? 'reused' : `${site.timings.build} ms`})`);
  const vip = addressIn(lab.subnet, 100);
  inventoryWithAdded = await lab.writeInventory({
    roles: { cp1: ['control-plane'], cp2: ['control-plane'], cp3: ['control-plane'], w1: ['worker'], d1: ['worker'], [ADDED]: ['worker'] },
    extra: { network: { controlPlaneEndpoint: `${vip}:8443`, encapsulation: 'vxlan' } },
  });
  const doc = parse(await readFile(inventoryWithAdded, 'utf8')) as { hosts: { name: string }[] };
  inventory = inventoryWithAdded.replace(/\.yaml$/, '-install.yaml');
  await writeFile(inventory, stringify({ ...doc, hosts: doc.hosts.filter((h) => h.name !== ADDED) }));
  for (const n of ALL) before.set(n, await nodeState(n));
}, 900_000);

afterAll(async () => {
  if (figures.length) console.log(`[el-install] figures:\n  ${figures.join('\n  ')}`);
  await site?.replica.stop();
  await lab?.stop();
});

describe(`ferry install on EL lab nodes (${OS}, dnf and rpm) and a Debian worker (${DEBIAN})`, () => {
  it('the nodes are what ferry reads as EL: os-release, rpm database, dnf; d1 is Debian 12', async () => {
    expect((await lab.nodeExec('d1', ['sh', '-c', '. /etc/os-release; echo $ID $VERSION_ID'])).stdout.trim()).toBe('debian 12');
    for (const n of EL_NODES) {
      expect((await lab.nodeExec(n, ['sh', '-c', '. /etc/os-release; echo $ID $VERSION_ID'])).stdout.trim()).toBe('rocky 9.4');
      expect((await lab.nodeExec(n, ['rpm', '-q', 'curl-minimal', 'rocky-release'])).stdout).toContain('rocky-release-9.4-1.7.el9.noarch');
    }
  });

  it('the replica serves the spec\'s EL repos as dnf reads them: signed packages, signed repomd.xml, pkgs.k8s.io\'s 302', async () => {
    const root = join(lab.stateDir, 'dnf-root');
    const minor = site.lock.stack.kubernetes.split('.').slice(0, 2).join('.');
    const repos = [
      ['docker', UPSTREAM.dockerEl('rhel', '9'), UPSTREAM.dockerElKey('rhel')],
      ['kubernetes', UPSTREAM.kubernetesRpm(minor), `${UPSTREAM.kubernetesRpm(minor)}repodata/repomd.xml.key`],
      ['baseos', UPSTREAM.rockyVault('9.4', 'BaseOS'), UPSTREAM.rockyKey('9')],
      ['appstream', UPSTREAM.rockyVault('9.4', 'AppStream'), UPSTREAM.rockyKey('9')],
    ];
    await writeFile(join(lab.stateDir, 'dnf.conf'), '[main]\n');
    const argv = [
      '-y', '-q', `--config=${join(lab.stateDir, 'dnf.conf')}`, `--installroot=${root}`, '--releasever=9', '--setopt=reposdir=/dev/null',
      '--setopt=module_platform_id=platform:el9', '--disableplugin=*',
      ...repos.flatMap(([id, url, key]) => [`--repofrompath=${id},${site.replica.url(url!)}`, `--setopt=${id}.gpgcheck=1`, `--setopt=${id}.repo_gpgcheck=1`, `--setopt=${id}.gpgkey=${site.replica.url(key!)}`]),
      `--repo=${repos.map((r) => r[0]).join(',')}`, 'install', '--downloadonly', `--downloaddir=${join(lab.stateDir, 'dnf-down')}`,
      `containerd.io-${site.replica.content.containerdIoRpm}`, `kubeadm-${site.lock.stack.kubernetes}`, 'haproxy', 'keepalived',
    ];
    const r = await execa('dnf', argv, { reject: false });
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    const rpms = (await readdir(join(lab.stateDir, 'dnf-down'))).sort();
    expect(rpms).toEqual(expect.arrayContaining([`containerd.io-${site.replica.content.containerdIoRpm}.x86_64.rpm`, 'haproxy-2.4.22-3.el9_3.x86_64.rpm']));
  }, 120_000);

  it('one lock and one bundle for both releases: a repository per OS, images and files once', async () => {
    expect(lockOses(site.lock.stack).map((o) => osName(o.os))).toEqual([OS, DEBIAN]);
    const manifest = await siteManifest(site);
    const size = (pick: (path: string) => boolean) => manifest.artifacts.filter((a) => pick(a.path)).reduce((n, a) => n + a.size, 0);
    const repo = (os: string) => (p: string) => p.startsWith(`packages/${os}/`);
    expect(manifest.artifacts.map((a) => a.path)).toEqual(expect.arrayContaining(['packages/rocky-9.4/x86_64/repodata/repomd.xml', 'packages/debian-12/amd64/Packages']));
    expect(manifest.artifacts.some((a) => /^packages\/rocky-9\.4\/x86_64\/RPM-GPG-KEY-/.test(a.path))).toBe(true);
    const kubeadm = manifest.artifacts.filter((a) => a.kind === 'package' && a.name === 'kubeadm').map((a) => a.path.split('/')[1]).sort();
    expect(kubeadm).toEqual([DEBIAN, OS]);
    expect(manifest.artifacts.filter((a) => a.path.startsWith('files/registry/'))).toHaveLength(1);
    const all = size(() => true);
    const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
    // The same bundle without the Debian repository is what `ferry resolve --os rocky-9.4` alone would bundle.
    figures.push(`bundle: ${mb(all)} for ${OS} + ${DEBIAN} (${mb(size(repo(OS)))} EL repository, ${mb(size(repo(DEBIAN)))} Debian repository); ${mb(all - size(repo(DEBIAN)))} for ${OS} alone`);
  });

  it('installs from the bundle alone (dnf on EL, apt on Debian): every node Ready, packages signed and checked', async () => {
    const r = await ferry(installArgs());
    expect(r.code, `${r.out}\n${r.err}`).toBe(0);
    figures.push(`mixed install from clean, ${NODES.length} nodes (${NODES.length - DEBIAN_NODES.size} EL, ${DEBIAN_NODES.size} Debian): ${r.ms} ms`);
    const nodes = JSON.parse((await lab.nodeExec('cp1', kubectl('get', 'nodes', '-o', 'json'))).stdout) as { items: { metadata: { name: string }; status: { conditions: { type: string; status: string }[] } }[] };
    expect(nodes.items.map((n) => n.metadata.name).sort()).toEqual(NODES);
    for (const n of nodes.items) expect(n.status.conditions.find((c) => c.type === 'Ready')?.status, n.metadata.name).toBe('True');
    const k8s = site.lock.stack.kubernetes;
    // The Debian worker: apt installed the Debian repository's packages, its source is that repository alone.
    expect((await lab.nodeExec('d1', ['dpkg-query', '-W', '-f', '${Version}', 'kubeadm'])).stdout).toMatch(new RegExp(`^${k8s.replaceAll('.', '\\.')}-`));
    expect((await lab.nodeExec('d1', ['sh', '-c', 'cat /etc/apt/sources.list.d/*ferry*'])).stdout).toContain('/var/lib/ferry/bundle/packages/debian-12/amd64');
    expect((await lab.nodeExec('d1', ['test', '-e', '/var/lib/ferry/bundle/packages/rocky-9.4'], { allowFailure: true })).exitCode).toBe(1);
    expect((await lab.nodeExec('cp1', ['test', '-e', '/var/lib/ferry/bundle/packages/debian-12'], { allowFailure: true })).exitCode).toBe(1);
    for (const n of NODES.filter((x) => !DEBIAN_NODES.has(x))) {
      const q = await lab.nodeExec(n, ['rpm', '-q', 'containerd.io', 'kubeadm', 'kubelet', 'kubectl']);
      expect(q.stdout, n).toContain(`kubeadm-${k8s}-150500.1.1.x86_64`);
      expect(q.stdout, n).toMatch(/containerd\.io-\d+\.\d+\.\d+-3\.1\.el9\.x86_64/);
      // dnf checked each package against the key the bundle carries (gpgcheck=1), and imported it into rpm's database.
      expect((await lab.nodeExec(n, ['rpm', '-q', '--qf', '%{RSAHEADER:pgpsig} %{DSAHEADER:pgpsig}\\n', 'containerd.io'])).stdout, n).toMatch(/Key ID/);
      expect((await lab.nodeExec(n, ['rpm', '-q', 'gpg-pubkey'])).stdout, n).toMatch(/^gpg-pubkey-/m);
    }
    expect((await lab.nodeExec('cp1', ['rpm', '-q', 'haproxy', 'keepalived'])).stdout).toContain('haproxy-2.4.22-3.el9_3.x86_64');
  }, 900_000);

  it('a second run finds everything done and runs no mutating command', async () => {
    const start = (await audit()).length;
    const r = await ferry(installArgs());
    expect(r.code, r.err).toBe(0);
    const records = (await audit()).slice(start);
    expect(records.filter((a) => a.readOnly !== true).map((a) => `${a.host} ${a.phase ?? ""}: ${a.command}`)).toEqual([]);
    figures.push(`mixed converged re-run: ${r.ms} ms`);
  }, 300_000);

  it('a bundle for rocky-9.4 alone: preflight refuses the Debian worker before any node changes, naming the resolve that carries both', async () => {
    // The README's internet side again, for one OS (its own replica; the build is cached like the mixed one).
    const elOnly = await siteBundle(join(lab.stateDir, 'el-only'), { os: OS });
    try {
      const state = join(lab.stateDir, 'el-only-state');
      const r = await ferry(['install', '-i', inventory, '--bundle', elOnly.dir, '--state-dir', state, '--only', 'preflight']);
      expect(r.code, `${r.out}\n${r.err}`).toBe(7);
      expect(r.err).toMatch(/d1 runs Debian GNU\/Linux 12 \(bookworm\), but the lock was resolved for rocky 9\.4: a bundle that carries what d1 runs too: `ferry resolve --os rocky-9\.4 --os debian-12 \.\.\. --out ferry\.lock\.yaml`, then `ferry bundle build/);
      const records = (await readFile(join(state, 'audit.jsonl'), 'utf8').catch(() => '')).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditRecord);
      expect(records.filter((a) => a.readOnly !== true).map((a) => `${a.host}: ${a.command}`)).toEqual([]);
    } finally {
      await elOnly.replica.stop();
    }
  }, 300_000);

  it('add-node joins one more EL worker from the same bundle', async () => {
    const r = await ferry(['add-node', '-i', inventoryWithAdded, '--host', ADDED, '--bundle', site.dir, '--state-dir', stateDir]);
    expect(r.code, `${r.out}\n${r.err}`).toBe(0);
    figures.push(`add-node ${ADDED} (EL): ${r.ms} ms`);
    const nodes = JSON.parse((await lab.nodeExec('cp1', kubectl('get', 'nodes', '-o', 'json'))).stdout) as { items: { metadata: { name: string }; status: { conditions: { type: string; status: string }[] } }[] };
    expect(nodes.items.map((n) => n.metadata.name).sort()).toEqual(ALL);
    expect(nodes.items.find((n) => n.metadata.name === ADDED)!.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect((await lab.nodeExec(ADDED, ['rpm', '-q', 'kubelet'])).stdout).toContain('150500.1.1');
  }, 600_000);

  it('the API answers through the VIP, and still does after keepalived (EL\'s unit, forking) stops on its holder', async () => {
    const vip = addressIn(lab.subnet, 100);
    const holder = async () => {
      for (const n of NODES) if ((await lab.nodeExec(n, ['ip', '-o', '-4', 'addr', 'show'])).stdout.includes(` ${vip}/`)) return n;
      return undefined;
    };
    const readyz = (n: string) => lab.nodeExec(n, kubectl('--server', `https://${vip}:8443`, 'get', '--raw', '/readyz'), { allowFailure: true });
    let first: string | undefined;
    for (let i = 0; i < 150 && !first; i++) {
      first = await holder();
      if (!first) await new Promise((r) => setTimeout(r, 100));
    }
    expect(first).toMatch(/^cp/);
    expect((await readyz('cp1')).stdout.trim()).toBe('ok');
    await lab.nodeExec(first!, ['systemctl', 'stop', 'keepalived']);
    let next: string | undefined;
    for (let i = 0; i < 100 && (next === undefined || next === first); i++) {
      await new Promise((r) => setTimeout(r, 100));
      next = await holder();
    }
    expect(next).toMatch(/^cp/);
    expect(next).not.toBe(first);
    let answer = '';
    for (let i = 0; i < 30 && answer !== 'ok'; i++) {
      answer = (await readyz('cp1')).stdout.trim();
      if (answer !== 'ok') await new Promise((r) => setTimeout(r, 500));
    }
    expect(answer).toBe('ok');
    await lab.nodeExec(first!, ['systemctl', 'start', 'keepalived']);
  }, 120_000);

  it('reset gives the nodes back as they were: the same rpm -qa (EL) or dpkg list (Debian), the same /etc', async () => {
    const r = await ferry(['reset', '-i', inventoryWithAdded, '--state-dir', stateDir]);
    expect(r.code, r.err).toBe(0);
    figures.push(`mixed reset: ${r.ms} ms`);
    // Debian: as install.lab.test.ts says, a base package the bundle's packages needed newer stays at exactly the
    // bundle's version (reset cannot downgrade to a version no bundle has); everything else is as it was.
    const manifest = await siteManifest(site);
    const bundled = new Map(manifest.artifacts.filter((a) => a.kind === 'package' && a.path.startsWith(`packages/${DEBIAN}/`)).map((a) => [a.name, a.version]));
    const upgraded: string[] = [];
    for (const n of DEBIAN_NODES) {
      const [was, now] = [before.get(n)!, await nodeState(n)];
      const lines = (t: string) => new Map(t.trim().split('\n').map((l) => [l.split(' ')[0]!, l] as const));
      const [a, b] = [lines(was.packages), lines(now.packages)];
      expect([...b.keys()], n).toEqual([...a.keys()]);
      for (const [name, line] of b) {
        if (line === a.get(name)) continue;
        expect(line, `${n}: ${name} changed, but not to the bundle's version`).toBe(`${name} ${bundled.get(name)} ii `);
        upgraded.push(name);
      }
      expect(now.etc, n).toBe(was.etc);
      expect((await lab.nodeExec(n, ['test', '-e', '/var/lib/ferry'], { allowFailure: true })).exitCode, n).toBe(1);
    }
    figures.push(`Debian worker after reset: base packages left at the bundle's newer version: ${upgraded.sort().join(', ') || 'none'}`);
    for (const n of EL_NODES) {
      const after = await nodeState(n);
      expect(after.packages, n).toBe(before.get(n)!.packages);
      expect(after.etc, n).toBe(before.get(n)!.etc);
      // The one thing EL's packages leave by design: haproxy's system user and group (haproxy.spec's %pre).
      const added = (t: string) => new Set(t.split('\n'));
      const extra = [...added(after.accounts)].filter((l) => !added(before.get(n)!.accounts).has(l));
      expect(extra, n).toEqual(n.startsWith('cp') ? ['haproxy'] : []);
    }
  }, 300_000);
});
