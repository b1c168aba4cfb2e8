// Fixture RPM repository for the Enterprise-Linux path, built at test time with rpmbuild and createrepo_c:
//   ferry-a -> ferry-b -> ferry-c (Requires chain); ferry-c needs `ferry-virtual-tool`, which ferry-provider
//   Provides (a virtual Provides); ferry-c exists in 1.0 and 2.0; ferry-broken needs a soname nothing provides;
//   ferry-mod 1.0 / 2.0 belong to streams 1 / 2 of an EL8-like module whose default stream is 1, so
//   modular filtering must pick 1.0 although 2.0 is newer.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { startRangeServer, type RangeServer } from './range-server.ts';

interface Spec {
  name: string;
  version: string;
  epoch?: number;
  requires?: string[];
  provides?: string[];
  /** Bytes of payload, so packages have a size worth measuring. */
  payload?: number;
}

export const FIXTURE_RPMS: Spec[] = [
  { name: 'ferry-a', version: '1.0', requires: ['ferry-b'] },
  { name: 'ferry-b', version: '1.0', requires: ['ferry-c >= 2.0'] },
  { name: 'ferry-c', version: '1.0', requires: ['ferry-virtual-tool'] },
  { name: 'ferry-c', version: '2.0', requires: ['ferry-virtual-tool'] },
  { name: 'ferry-provider', version: '3.1', epoch: 1, provides: ['ferry-virtual-tool = 3.1'], payload: 20_000 },
  { name: 'ferry-broken', version: '0.1', requires: ['libghost.so.1()(64bit)'] },
  { name: 'ferry-mod', version: '1.0' },
  { name: 'ferry-mod', version: '2.0' },
];

// Module metadata in the modulemd v2 and modulemd-defaults v1 formats (libmodulemd yaml_specs), the way
// EL8 AppStream publishes it as the `modules` entry of repomd.xml.
function moduleStream(stream: string, version: string): string {
  return `---
document: modulemd
version: 2
data:
  name: ferry-mod
  stream: "${stream}"
  version: 8100020240101000000
  context: 9edba152
  arch: x86_64
  summary: Fixture module
  description: Fixture module stream ${stream}.
  license:
    module:
    - MIT
  dependencies:
  - buildrequires:
      platform: [el8]
    requires:
      platform: [el8]
  profiles:
    common:
      rpms:
      - ferry-mod
  artifacts:
    rpms:
    - ferry-mod-0:${version}-1.noarch
...
`;
}

export const FIXTURE_MODULES_YAML = `${moduleStream('1', '1.0')}${moduleStream('2', '2.0')}---
document: modulemd-defaults
version: 1
data:
  module: ferry-mod
  stream: "1"
  profiles:
    "1": [common]
    "2": [common]
...
`;

function specText(s: Spec): string {
  const lines = [
    `Name: ${s.name}`,
    `Version: ${s.version}`,
    ...(s.epoch === undefined ? [] : [`Epoch: ${s.epoch}`]),
    'Release: 1',
    'Summary: ferry test fixture',
    'License: MIT',
    'BuildArch: noarch',
    ...(s.requires ?? []).map((r) => `Requires: ${r}`),
    ...(s.provides ?? []).map((p) => `Provides: ${p}`),
    '%description',
    'Fixture package for ferry tests.',
    '%install',
    `mkdir -p %{buildroot}/usr/share/${s.name}`,
    `head -c ${s.payload ?? 1000} /dev/urandom > %{buildroot}/usr/share/${s.name}/payload`,
    '%files',
    `/usr/share/${s.name}/payload`,
  ];
  return `${lines.join('\n')}\n`;
}

export interface RpmFixtureRepo {
  dir: string;
  baseurl: string;
  /** With `sign`: URL of the armored public key that signed every RPM (a key made for this test run). */
  gpgkey?: string;
  server: RangeServer;
  close: () => Promise<void>;
}

/** Make a throw-away RSA signing key in `home` (a GNUPGHOME) and return its armored public half. */
function testSigningKey(home: string): string {
  const env = { ...process.env, GNUPGHOME: home };
  execFileSync('gpg', ['--batch', '--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', 'ferry test signing key <test@ferry.invalid>', 'rsa2048', 'sign', 'never'], { env, stdio: 'pipe' });
  return execFileSync('gpg', ['--armor', '--export', 'test@ferry.invalid'], { env }).toString();
}

/** Build the fixture RPMs and repo metadata (with modules) in a temp dir and serve it over HTTP on loopback. */
export async function startRpmFixtureRepo(options: { sign?: boolean } = {}): Promise<RpmFixtureRepo> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-rpmrepo-'));
  try {
    return await buildAndServe(dir, options);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function buildAndServe(dir: string, options: { sign?: boolean }): Promise<RpmFixtureRepo> {
  const repo = join(dir, 'repo');
  await mkdir(repo);
  for (const s of FIXTURE_RPMS) {
    const specFile = join(dir, `${s.name}-${s.version}.spec`);
    await writeFile(specFile, specText(s));
    execFileSync('rpmbuild', ['-bb', '--quiet', '--define', `_topdir ${join(dir, 'top')}`, '--define', `_rpmdir ${repo}`, '--define', '_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm', specFile], { stdio: 'pipe' });
  }
  let publicKey: string | undefined;
  if (options.sign) {
    const home = join(dir, 'gnupg');
    await mkdir(home, { mode: 0o700 });
    publicKey = testSigningKey(home);
    const rpms = (await readdir(repo)).filter((f) => f.endsWith('.rpm')).map((f) => join(repo, f));
    execFileSync('rpmsign', ['--addsign', '--define', '__gpg /usr/bin/gpg', '--define', `_gpg_path ${home}`, '--define', '_gpg_name test@ferry.invalid', ...rpms], { stdio: 'pipe' });
  }
  execFileSync('createrepo_c', ['--quiet', repo], { stdio: 'pipe' });
  const modules = join(dir, 'modules.yaml');
  await writeFile(modules, FIXTURE_MODULES_YAML);
  execFileSync('modifyrepo_c', ['--mdtype=modules', modules, join(repo, 'repodata')], { stdio: 'pipe' });
  const server = await startRangeServer();
  for (const file of await walk(repo)) server.files.set(`/el8/${relative(repo, file)}`, { body: await readFile(file) });
  if (publicKey) server.files.set('/keys/RPM-GPG-KEY-ferry-test', { body: Buffer.from(publicKey) });
  return {
    dir: repo,
    baseurl: server.url('/el8/'),
    gpgkey: publicKey ? server.url('/keys/RPM-GPG-KEY-ferry-test') : undefined,
    server,
    close: async () => {
      await server.close();
      // gpg started an agent for this GNUPGHOME: stop it before its directory goes.
      if (options.sign) execFileSync('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: join(dir, 'gnupg') }, stdio: 'pipe' });
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    if ((await stat(path)).isDirectory()) out.push(...(await walk(path)));
    else out.push(path);
  }
  return out;
}
