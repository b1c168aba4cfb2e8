import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SiteFile, packageSetSha256 } from '../../src/config/site.ts';
import { parseYaml } from '../../src/config/parse.ts';
import { SITE_FILE_LIMITS } from '../../src/config/site.ts';
import { buildSiteFile, renderSiteFile } from '../../src/doctor/site-file.ts';
import type { Gathered } from '../../src/doctor/model.ts';
import { parseFacts } from '../../src/facts/parse.ts';
import type { Facts } from '../../src/facts/types.ts';
import { seededRandom } from '../support/seeded-random.ts';
import { fixtureFacts, fixtureText } from '../facts/fixtures.ts';

const packagesOut = (name: string) => readFileSync(new URL(`../fixtures/facts/packages/${name}`, import.meta.url), 'utf8');
/** A real gather.sh output with the packages section appended, as `gatherFacts(host, { packages: true })` sees it. */
const withPackages = (fixture: 'rocky8-gpu-reconstructed' | 'debian12-lab-node', pk: string, host: string) =>
  parseFacts(host, `${fixtureText(fixture)}\n${packagesOut(pk)}`);

/** Fields of Facts the site file may copy (what the bundle build needs); every other field must stay out. */
const ALLOWED = new Set(['os.id', 'os.versionId', 'os.family', 'kernel.release', 'kernel.arch']);

/** Facts with every string outside ALLOWED (and outside the package list) replaced by a unique secret-shaped token. */
function poisoned(facts: Facts, token: (path: string) => string): Facts {
  const walk = (v: unknown, path: string): unknown => {
    if (path === 'packages') return v;
    if (typeof v === 'string') return ALLOWED.has(path) ? v : token(path);
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}[${i}]`));
    if (v && typeof v === 'object') {
      // Keys are data too (services, sysctls, proxy variables): poison them as well.
      return Object.fromEntries(Object.entries(v).map(([k, x]) => {
        const p = path ? `${path}.${k}` : k;
        return [path && !['os', 'kernel', 'gpu', 'identity', 'cgroup', 'iptables', 'time', 'kubelet', 'reboot', 'dns', 'swap', 'memory'].includes(path) && typeof x === 'string' && !ALLOWED.has(p) ? token(`key:${p}`) : k, walk(x, p)];
      }));
    }
    return v;
  };
  return walk(facts, '') as Facts;
}

const SECRETS = {
  proxy: 'http://ferry:hunter2@proxy.corp.internal:3128',
  identity: '/home/ferry/.ssh/ferry_ed25519',
  token: 'abcdef.0123456789abcdef',
  hostKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl',
  address: '10.99.0.7',
  password: 'S3cr3t-registry-password',
};

describe('the site file (ferry doctor --site-out)', () => {
  it('holds per node the name, roles, OS with its minor, arch, kernel, GPUs and the installed set by reference', () => {
    const site = buildSiteFile({
      cluster: 'gpu-prod',
      generatedAt: new Date('2026-12-07T05:00:00Z'),
      gathered: [
        { name: 'gpu-1', address: '10.20.1.21', roles: ['worker', 'gpu'], facts: withPackages('rocky8-gpu-reconstructed', 'rpm.out', 'gpu-1') },
        { name: 'gpu-2', address: '10.20.1.22', roles: ['worker', 'gpu'], facts: withPackages('rocky8-gpu-reconstructed', 'rpm.out', 'gpu-2') },
        { name: 'cp-1', address: '10.20.0.11', roles: ['control-plane'], error: 'cp-1: connection refused' },
      ],
    });
    expect(SiteFile.parse(site)).toEqual(site);
    expect(site.nodes[0]).toEqual({
      name: 'gpu-1', roles: ['worker', 'gpu'], os: { id: 'rocky', versionId: '8.6', family: 'el' }, arch: 'x86_64',
      kernel: '4.18.0-372.19.1.el8_6.x86_64', gpus: 2, packages: site.nodes[1]!.packages,
    });
    // Two nodes installed alike share one set.
    expect(Object.keys(site.packageSets)).toHaveLength(1);
    expect(site.packageSets[site.nodes[0]!.packages!]!.packages).toHaveLength(2);
    expect(site.unreachable).toEqual(['cp-1']);
    expect(packageSetSha256(site.packageSets[site.nodes[0]!.packages!]!)).toBe(site.nodes[0]!.packages);
  });

  it('parses back through the input loader (JSON is YAML), and a set edited by hand is refused', () => {
    const site = buildSiteFile({ cluster: undefined, generatedAt: new Date(0), gathered: [{ name: 'w1', address: '', roles: ['worker'], facts: withPackages('debian12-lab-node', 'dpkg.out', 'w1') }] });
    const text = renderSiteFile(site);
    expect(parseYaml(text, 'site.json', SiteFile, SITE_FILE_LIMITS)).toEqual(site);
    const edited = text.replace('"version": "3.134"', '"version": "3.135"');
    expect(() => parseYaml(edited, 'site.json', SiteFile, SITE_FILE_LIMITS)).toThrow(/does not hash to its key/);
  });

  it.each(Object.entries(SECRETS))('never carries a %s placed anywhere in the facts or the host entry', (_kind, secret) => {
    const facts = poisoned(withPackages('rocky8-gpu-reconstructed', 'rpm.out', 'gpu-1'), () => secret);
    const host = { name: 'gpu-1', address: SECRETS.address, roles: ['gpu'], ssh: { user: 'ferry', identity: SECRETS.identity }, knownHosts: SECRETS.hostKey } as unknown as Gathered;
    const text = renderSiteFile(buildSiteFile({ cluster: 'c', generatedAt: new Date(0), gathered: [{ ...host, facts }] }));
    expect(text).not.toContain(secret);
    for (const s of Object.values(SECRETS)) expect(text).not.toContain(s);
  });

  it('fuzz: no value of any other field reaches the file (200 seeded runs, every field poisoned with a random token)', () => {
    const base = [withPackages('rocky8-gpu-reconstructed', 'rpm.out', 'g'), withPackages('debian12-lab-node', 'dpkg.out', 'w'), fixtureFacts('debian12-admin-host')];
    for (let seed = 1; seed <= 200; seed++) {
      const rnd = seededRandom(seed);
      const tokens: string[] = [];
      const token = () => {
        const t = `SECRET${seed}x${Array.from({ length: 12 }, () => 'abcdefghijklmnopqrstuvwxyz0123456789'[rnd.int(36)]).join('')}`;
        tokens.push(t);
        return t;
      };
      const facts = poisoned(rnd.pick(base), token);
      const address = `10.${rnd.int(256)}.${rnd.int(256)}.${rnd.int(256)}`;
      const text = renderSiteFile(buildSiteFile({ cluster: 'c', generatedAt: new Date(0), gathered: [{ name: 'n1', address, roles: ['worker'], facts }] }));
      expect(text, `seed ${seed}`).not.toMatch(/SECRET\d+x/);
      expect(text, `seed ${seed}`).not.toContain(`"${address}"`);
      expect(tokens.length).toBeGreaterThan(50);
    }
  });
});
