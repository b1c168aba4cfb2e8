import { describe, expect, it } from 'vitest';
import { LAB_PROGRAMS, labMachineFacts, missingLabNeeds } from '../../src/lab/needs.ts';

const all = LAB_PROGRAMS.map((p) => p.program);

describe('missingLabNeeds', () => {
  const rows: { name: string; uid: number; found: string[]; expected: RegExp[] }[] = [
    { name: 'root with every program: nothing missing', uid: 0, found: all, expected: [] },
    { name: 'not root', uid: 1000, found: all, expected: [/^root \(running as uid 1000\)/] },
    {
      name: 'no nspawn, no debootstrap: the programs and their Debian packages',
      uid: 0,
      found: all.filter((p) => p !== 'systemd-nspawn' && p !== 'debootstrap'),
      expected: [/^systemd-nspawn, debootstrap \(apt-get install systemd-container debootstrap; or bash scripts\/setup\.sh\)$/],
    },
    {
      name: 'one package named once for its three programs',
      uid: 0,
      found: all.filter((p) => !p.startsWith('ssh')),
      expected: [/^ssh, ssh-keygen, ssh-keyscan \(apt-get install openssh-client;/],
    },
    { name: 'not root and nothing installed: two lines', uid: 5, found: [], expected: [/^root/, /^systemd-nspawn, debootstrap, nsenter/] },
  ];
  for (const row of rows)
    it(row.name, () => {
      const got = missingLabNeeds({ uid: row.uid, found: row.found });
      expect(got).toHaveLength(row.expected.length);
      row.expected.forEach((re, i) => expect(got[i]).toMatch(re));
    });
});

describe('labMachineFacts', () => {
  it('finds programs only on the PATH it is given (plus the sbin dirs)', () => {
    expect(labMachineFacts({ PATH: '/nonexistent' }).found).not.toContain('ssh');
    expect(labMachineFacts({ PATH: '/usr/bin:/bin' }).found).toContain('tar');
    expect(labMachineFacts({}).uid).toBe(process.getuid!());
  });
});
