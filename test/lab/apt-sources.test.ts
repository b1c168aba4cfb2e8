import { describe, expect, it } from 'vitest';
import { pickDebianMirror } from '../../src/lab/apt-sources.ts';
import { parseSourcesDeb822, parseSourcesList } from '../../src/bundle/sources/apt-sources.ts';

const parse = (files: { path: string; text: string }[]) =>
  files.flatMap((f) => (f.path.endsWith('.sources') ? parseSourcesDeb822(f.text) : parseSourcesList(f.text)));

// deb822 file as found in /etc/apt/sources.list.d/debian.sources on the Debian 12 machine the lab was built on
// (2026-11-23); the mirror host is whatever that machine used, the parser never assumes one.
const DEB822 = `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
# http://snapshot.debian.org/archive/debian-security/20250520T000000Z
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

// One-line format as in the stock Debian 12 /etc/apt/sources.list written by the installer (with a deb-src line,
// an option block and a comment), pointing at a site mirror.
const ONE_LINE = `# deb cdrom:[Debian GNU/Linux 12.5.0 _Bookworm_ - Official amd64 NETINST]/ bookworm main
deb-src http://mirror.example.internal/debian/ bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example.internal/debian/ bookworm main non-free-firmware
deb http://security.debian.org/debian-security bookworm-security main
`;

describe('apt sources', () => {
  it.each([
    ['deb822 .sources', [{ path: '/etc/apt/sources.list.d/debian.sources', text: DEB822 }], 'http://deb.debian.org/debian'],
    ['one-line sources.list with options and deb-src', [{ path: '/etc/apt/sources.list', text: ONE_LINE }], 'http://mirror.example.internal/debian'],
    ['the first file that serves the suite wins', [{ path: '/etc/apt/sources.list', text: ONE_LINE }, { path: 'x.sources', text: DEB822 }], 'http://mirror.example.internal/debian'],
    ['nothing serves bookworm main', [{ path: '/etc/apt/sources.list', text: 'deb http://x/debian bullseye main\n' }], undefined],
    ['a disabled deb822 stanza is skipped', [{ path: 'a.sources', text: `Enabled: no\nTypes: deb\nURIs: http://old.example/debian\nSuites: bookworm\nComponents: main\n\n${DEB822}` }], 'http://deb.debian.org/debian'],
  ])('picks the mirror: %s', (_name, files, mirror) => {
    expect(pickDebianMirror(parse(files), 'bookworm')).toBe(mirror);
  });
});
