import { beforeAll, describe, expect, it } from 'vitest';
import type { Catalog } from '../../src/matrix/catalog.ts';
import { normalizeOsId, osIdFromRelease, parseOsRelease } from '../../src/matrix/os-release.ts';
import { realMatrix } from './fixture.ts';

let catalog: Catalog;
beforeAll(async () => {
  catalog = (await realMatrix()).catalog;
});

// The ID and VERSION_ID lines below are as the distributions write them in /etc/os-release.
const files: [string, string, string][] = [
  ['Rocky Linux 8.10', 'NAME="Rocky Linux"\nVERSION="8.10 (Green Obsidian)"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="8.10"\n', 'rocky-8.10'],
  ['AlmaLinux 9.4', 'NAME="AlmaLinux"\nID="almalinux"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\n', 'alma-9.4'],
  ['RHEL 9.6', 'NAME="Red Hat Enterprise Linux"\nID="rhel"\nVERSION_ID="9.6"\n', 'rhel-9.6'],
  ['Ubuntu 24.04 (unquoted ID)', 'NAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nID_LIKE=debian\n', 'ubuntu-24.04'],
  ['Debian 12', 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_ID="12"\nID=debian\n', 'debian-12'],
];

describe('os-release', () => {
  it.each(files)('maps %s to the matrix id', (_name, text, id) => {
    const f = parseOsRelease(text);
    expect(osIdFromRelease(catalog, f.ID!, f.VERSION_ID!)).toBe(id);
  });

  const typed: [string, string][] = [
    ['rocky-9.4', 'rocky-9.4'],
    ['almalinux-9.4', 'alma-9.4'],
    ['alma-9.4', 'alma-9.4'],
    ['rhel-10.1', 'rhel-10.1'],
  ];
  it.each(typed)('--os %s means %s', (text, id) => {
    expect(normalizeOsId(catalog, text)).toBe(id);
  });

  it('refuses Oracle Linux with the reason and the supported systems', () => {
    expect(() => osIdFromRelease(catalog, 'ol', '9.4')).toThrow(/Oracle Linux \(ol-9\.4\) is not supported: .*Unbreakable Enterprise Kernel.*supported: rhel \(8\.6, .*\); rocky/);
  });
});
