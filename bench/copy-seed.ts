// copy-bundle direct vs seed on 4 lab nodes, with `scp -r` of the same files side by side as the standard.
// Usage: node bench/copy-seed.ts. The bundle is the README walkthrough's (test/install/support/site-bundle.ts:
// resolve, bundle build with the shipped spec against the upstream replica, verify); what is copied is what
// copy-bundle carries to a node: the lock's OS repository and the plain files. Prints wall time per method and the
// bytes each sends over the admin host's link.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { memoryIo } from '../src/cli/io.ts';
import { run } from '../src/cli/program.ts';
import { nodeBundleFiles } from '../src/phases/bundle-on-node.ts';
import { siteBundle, siteManifest } from '../test/install/support/site-bundle.ts';
import { labSshArgv, startLab } from '../test/lab/lab.ts';

const NODES = ['cp1', 'w1', 'w2', 'w3'];

const lab = await startLab({ nodes: NODES });
const site = await siteBundle(join(lab.stateDir, 'walkthrough')).catch(async (e: unknown) => {
  await lab.stop();
  throw e;
});
try {
  const bundle = site.dir;
  const files = nodeBundleFiles(await siteManifest(site), site.lock.stack.os);
  // The same files for scp: the OS repository's directory and files/.
  const roots = [...new Set(files.map((f) => f.path.split('/').slice(0, f.path.startsWith('packages/') ? 2 : 1).join('/')))];
  const bytes = files.reduce((n, f) => n + f.size, 0);
  const inventory = await lab.writeInventory({ roles: { cp1: ['control-plane'], w1: ['worker'], w2: ['worker'], w3: ['worker'] }, extra: { network: { controlPlaneEndpoint: `${lab.hostAddress}:8443`, loadBalancer: 'node-local' } } });
  const wipe = () => Promise.all(NODES.map((n) => lab.nodeExec(n, ['rm', '-rf', '/var/lib/ferry/bundle', '/var/tmp/scp-bundle'])));
  const ferryCopy = async (mode: 'direct' | 'seed') => {
    const playbook = join(lab.stateDir, `bench-${mode}.yaml`);
    await writeFile(playbook, stringify({ apiVersion: 'ferry.dev/v1alpha1', kind: 'Playbook', name: mode, phases: ['preflight', { phase: 'copy-bundle', with: { mode } }] }));
    const argv = ['install', '-i', inventory, '--bundle', bundle, '--playbook', playbook, '--state-dir', join(lab.stateDir, `bench-state-${mode}`)];
    const io = memoryIo();
    const started = performance.now();
    const code = await run([...argv, '--only', 'preflight,copy-bundle'], { io, now: () => new Date(), cwd: process.cwd(), env: { HOME: process.env.HOME } });
    if (code !== 0) throw new Error(`${mode}: exit ${code}\n${io.err()}`);
    const all = performance.now() - started;
    // The same command with only preflight (its doctor gate included) gives the part that is not copying.
    const before = performance.now();
    await run([...argv, '--only', 'preflight'], { io: memoryIo(), now: () => new Date(), cwd: process.cwd(), env: { HOME: process.env.HOME } });
    return all - (performance.now() - before);
  };
  const scp = async () => {
    const started = performance.now();
    await Promise.all(lab.nodes.map(async (n) => {
      const [, ...pre] = labSshArgv(lab, n.address, []);
      const opts = pre.slice(0, pre.indexOf(`root@${n.address}`)).filter((o) => o !== '-F' && o !== '/dev/null');
      await execa('ssh', [...labSshArgv(lab, n.address, ['mkdir', '-p', '/var/tmp/scp-bundle']).slice(1)]);
      await execa('scp', ['-q', '-r', ...opts, ...roots.map((r) => join(bundle, r)), `root@${n.address}:/var/tmp/scp-bundle/`]);
    }));
    return performance.now() - started;
  };
  const rows: [string, number, number][] = [];
  await wipe();
  rows.push(['ferry copy-bundle, direct', await ferryCopy('direct'), bytes * NODES.length]);
  await wipe();
  rows.push(['ferry copy-bundle, seed', await ferryCopy('seed'), bytes]);
  await wipe();
  rows.push(['scp -r, 4 nodes in parallel', await scp(), bytes * NODES.length]);
  await wipe();
  console.log(`4 lab nodes, ${files.length} files, ${(bytes / (1 << 20)).toFixed(1)} MiB per node`);
  console.log('| method | wall (s) | bytes over the admin link |\n|---|---|---|');
  for (const [name, ms, sent] of rows) console.log(`| ${name} | ${(ms / 1000).toFixed(1)} | ${(sent / (1 << 20)).toFixed(0)} MiB |`);
} finally {
  await site.replica.stop();
  await lab.stop();
}
