// A lock (and bundle) for two OS releases, rocky 8.6 and debian 12: each node is served its own release's repository
// (local-repo's file, copy-bundle's files), the seed holds both, and a node of a third release is refused by name.
import { describe, expect, it } from 'vitest';
import { parseNodeFacts } from '../../src/facts/node.ts';
import { repoFileFor } from '../../src/phases/local-repo.ts';
import { copyBundlePhase } from '../../src/phases/copy-bundle.ts';
import { rememberNodeFacts } from '../../src/phases/node-facts.ts';
import { nodeLock } from '../../src/phases/node-lock.ts';
import { runPhases } from '../../src/phases/runner.ts';
import { CopyParams } from '../../src/phases/seed-copy.ts';
import { nodeGatherOutput } from '../facts/fixtures.ts';
import { FakeHost } from '../support/fake-host.ts';
import { fixture } from './fixtures.ts';
import { manifestFor, phaseContext } from './phase-context.ts';

const CHECK = 'cd /var/lib/ferry/bundle 2>/dev/null && sha256sum -c --quiet -';

/** phaseContext('el') with debian-12 added to the lock and the bundle, and its last host running Debian 12. */
function mixedContext() {
  const ctx = phaseContext('el');
  const debian = { id: 'debian', version: '12', family: 'debian' as const, arch: 'amd64' };
  ctx.lock!.stack.alsoOs = [{ os: debian, kernel: '6.1.0', cgroup: 'v2' }];
  const debianRepo = manifestFor(debian, 'debian', { ...ctx.lock!.stack, os: debian }).artifacts.filter((a) => a.path.startsWith('packages/'));
  ctx.state.bundleManifest!.artifacts.push(...debianRepo);
  const d = ctx.inventory.hosts.at(-1)!;
  rememberNodeFacts(ctx.state, d.name, parseNodeFacts(d.name, nodeGatherOutput(fixture('debian12-os-release'), d.address), d.address));
  return { ctx, el: ctx.inventory.hosts[0]!, deb: d };
}

describe('a bundle for two OS releases, node by node', () => {
  it('local-repo: the EL node gets ferry.repo for the rocky repository, the Debian node ferry.list for the Debian one', async () => {
    const { ctx, el, deb } = mixedContext();
    const elFile = await repoFileFor({ spec: el, host: new FakeHost(el.name) }, ctx);
    expect(elFile.path).toBe('/etc/yum.repos.d/ferry.repo');
    expect(elFile.content).toContain('baseurl=file:///var/lib/ferry/bundle/packages/rocky-8.6/x86_64');
    expect(elFile.content).toContain('RPM-GPG-KEY-Rocky-8');
    const debFile = await repoFileFor({ spec: deb, host: new FakeHost(deb.name) }, ctx);
    expect(debFile.path).toBe('/etc/apt/sources.list.d/ferry.list');
    expect(debFile.content).toContain('file:/var/lib/ferry/bundle/packages/debian-12/amd64 ./');
    expect((await nodeLock({ spec: deb, host: new FakeHost(deb.name) }, ctx)).stack).toMatchObject({ os: { id: 'debian' }, kernel: '6.1.0', kubernetes: ctx.lock!.stack.kubernetes });
  });

  it.each([
    ['direct: each node checks (and would get) its own repository and the plain files only', CopyParams.parse({ mode: 'direct' }), { seed: undefined }],
    ['seed: the seed holds both repositories, to serve every node', CopyParams.parse({ mode: 'seed' }), { seed: 0 }],
  ])('copy-bundle %s', async (_name, params, { seed }) => {
    const { ctx, el, deb } = mixedContext();
    const hosts = new Map(ctx.inventory.hosts.map((h) => [h.name, new FakeHost(h.name, [{ command: CHECK, exitCode: 0, readOnly: true, times: 3 }])]));
    await runPhases([{ phase: copyBundlePhase, params }], ctx, { concurrency: 1, hostFor: (name) => hosts.get(name)! });
    const checked = (name: string) => hosts.get(name)!.calls.map((c) => c.stdin ?? '').join('');
    const seedName = seed === undefined ? undefined : ctx.inventory.hosts.find((h) => h.roles.includes('control-plane'))!.name;
    for (const h of ctx.inventory.hosts) {
      const text = checked(h.name);
      expect(text, h.name).toContain('files/registry/2.8.3/registry');
      const own = h.name === deb.name ? 'packages/debian-12/' : 'packages/rocky-8.6/';
      const other = h.name === deb.name ? 'packages/rocky-8.6/' : 'packages/debian-12/';
      expect(text, h.name).toContain(own);
      if (h.name === seedName) expect(text, h.name).toContain(other);
      else expect(text, h.name).not.toContain(other);
    }
    expect(checked(el.name)).toContain('packages/rocky-8.6/');
  });

  it('a node of a release the lock does not carry: refused with the resolve that would', async () => {
    const { ctx, deb } = mixedContext();
    rememberNodeFacts(ctx.state, deb.name, parseNodeFacts(deb.name, nodeGatherOutput('NAME="Ubuntu"\nID=ubuntu\nVERSION_ID="24.04"\nPRETTY_NAME="Ubuntu 24.04 LTS"\n', deb.address), deb.address));
    await expect(nodeLock({ spec: deb, host: new FakeHost(deb.name) }, ctx)).rejects.toThrow(/runs ubuntu 24\.04; the lock is for rocky-8\.6, debian-12/);
  });
});
