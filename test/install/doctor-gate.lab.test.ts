// The doctor gate of `ferry install` on two lab nodes (systemd-nspawn Debian 12, test/lab): preflight runs doctor's
// checks and pair probes over the install's own SSH connections; a blocked VXLAN port stops the install at
// preflight naming the check and the host, with nothing changed; --allow-failed-check lets it through; with
// `encapsulation: auto` the lab's raw-socket protocol 4 probe passes and IP-in-IP reaches the run state. The bundle
// is the README walkthrough's (resolve, bundle build with the shipped spec against the upstream replica, verify:
// test/install/support/site-bundle.ts).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryIo } from '../../src/cli/io.ts';
import { run } from '../../src/cli/program.ts';
import type { AuditRecord } from '../../src/state/audit.ts';
import { startLab, type Lab } from '../lab/lab.ts';
import { siteBundle, type SiteBundle } from './support/site-bundle.ts';

const [CP, W1] = ['cp1', 'w1'];
let lab: Lab;
let site: SiteBundle;

async function ferry(argv: string[]) {
  const io = memoryIo();
  const code = await run(argv, { io, now: () => new Date(), cwd: process.cwd(), env: { HOME: process.env.HOME } });
  return { code, out: io.out(), err: io.err() };
}

/** `ferry install --only preflight` with its own state directory; returns the result and that run's audit. */
async function preflight(name: string, encapsulation: 'auto' | 'vxlan', ...extra: string[]) {
  const inventory = await lab.writeInventory({ roles: { [CP]: ['control-plane'], [W1]: ['worker'] }, extra: { network: { controlPlaneEndpoint: `${lab.hostAddress}:8443`, encapsulation } } });
  const stateDir = join(lab.stateDir, `gate-${name}`);
  const r = await ferry(['install', '-i', inventory, '--bundle', site.dir, '--state-dir', stateDir, '--only', 'preflight', ...extra]);
  const audit = (await readFile(join(stateDir, 'audit.jsonl'), 'utf8').catch(() => '')).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditRecord);
  return { ...r, audit, stateDir };
}

beforeAll(async () => {
  lab = await startLab({ nodes: [CP, W1] });
  site = await siteBundle(join(lab.stateDir, 'walkthrough'));
});

afterAll(async () => {
  await site?.replica.stop();
  await lab?.stop();
});

describe('the doctor gate in preflight', () => {
  it('with encapsulation auto, keeps doctor\'s IP-in-IP recommendation (protocol 4 passes) and runs only read-only commands', async () => {
    const r = await preflight('auto', 'auto');
    expect(r.code, r.err).toBe(0);
    const stored = JSON.parse(await readFile(join(r.stateDir, 'doctor.json'), 'utf8'));
    expect(stored).toMatchObject({ encapsulation: 'ipip', ipipProbe: 'passed', encapsulationReason: 'protocol 4 passed on all 2 directions' });
    // A fresh node has ip_forward off: doctor fails it, the gate says os-prepare fixes it and goes on.
    expect(r.err).toMatch(/warning: doctor: cp1: ip-forward: .*install goes on/);
    expect(r.audit.length).toBeGreaterThan(0);
    expect(r.audit.filter((a) => a.readOnly !== true)).toEqual([]);
  });

  it('stops at preflight naming vxlan-udp and the host whose firewall drops UDP 4789, with nothing changed', async () => {
    await lab.nodeExec(W1, ['nft', 'add table inet fdgate; add chain inet fdgate in { type filter hook input priority 0; }; add rule inet fdgate in udp dport 4789 drop']);
    try {
      const r = await preflight('blocked', 'vxlan');
      expect(r.code, r.out).toBe(7);
      expect(r.err).toContain('phase preflight failed on 1 host(s)');
      expect(r.err).toMatch(/w1: doctor: vxlan-udp \(cp1→w1\): .*fix: /);
      expect(r.err).toContain('--allow-failed-check vxlan-udp');
      expect(r.audit.filter((a) => a.readOnly !== true)).toEqual([]);
      const tables = (await lab.nodeExec(W1, ['nft', 'list', 'tables'])).stdout;
      expect(tables).not.toContain('ferry');

      const allowed = await preflight('allowed', 'vxlan', '--allow-failed-check', 'vxlan-udp');
      expect(allowed.code, allowed.err).toBe(0);
      expect(allowed.err).toMatch(/warning: doctor: w1: vxlan-udp \(cp1→w1\): .*\(allowed by --allow-failed-check vxlan-udp\)/);
    } finally {
      await lab.nodeExec(W1, ['nft', 'delete', 'table', 'inet', 'fdgate']);
    }
  });

  it('refuses an unknown check id before connecting (exit 2)', async () => {
    const r = await preflight('unknown', 'auto', '--allow-failed-check', 'vxlan');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--allow-failed-check: no doctor check "vxlan"');
    expect(r.audit).toEqual([]);
  });
});
