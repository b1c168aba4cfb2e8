// Figure: `ferry install --only preflight,copy-bundle,local-repo,os-prepare,container-runtime` on 5 lab nodes
// (1 control plane + 4 workers, node-local balancer) from clean, then the converged re-run, with the README
// walkthrough's bundle (test/install/support/site-bundle.ts: resolve, bundle build with the shipped spec against the
// upstream replica, verify; install reads the bundle's own lock). Usage: node bench/install-5-nodes.ts [--copy direct|seed]
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { memoryIo } from '../src/cli/io.ts';
import { run } from '../src/cli/program.ts';
import type { AuditRecord } from '../src/state/audit.ts';
import { siteBundle } from '../test/install/support/site-bundle.ts';
import { startLab } from '../test/lab/lab.ts';

const NODES = ['cp1', 'w1', 'w2', 'w3', 'w4'];
const PHASES = ['preflight', 'copy-bundle', 'local-repo', 'os-prepare', 'container-runtime'];
const { values } = parseArgs({ options: { copy: { type: 'string', default: 'direct' } } });

const lab = await startLab({ nodes: NODES });
const site = await siteBundle(join(lab.stateDir, 'walkthrough')).catch(async (e: unknown) => {
  await lab.stop();
  throw e;
});
try {
  const inventory = await lab.writeInventory({
    roles: Object.fromEntries(NODES.map((n) => [n, n === 'cp1' ? ['control-plane'] : ['worker']])),
    // The lab kernel has no ipip (LAB.md): VXLAN, as the install lab test does.
    extra: { network: { controlPlaneEndpoint: `${lab.hostAddress}:8443`, loadBalancer: 'node-local', encapsulation: 'vxlan' } },
  });
  const playbook = join(lab.stateDir, 'bench-5.yaml');
  await writeFile(playbook, stringify({ apiVersion: 'ferry.dev/v1alpha1', kind: 'Playbook', name: 'bench', phases: PHASES.map((p) => (p === 'copy-bundle' ? { phase: p, with: { mode: values.copy } } : p)) }));
  const stateDir = join(lab.stateDir, 'bench-5-state');
  const argv = ['install', '-i', inventory, '--bundle', site.dir, '--playbook', playbook, '--state-dir', stateDir, '--only', PHASES.join(',')];
  const audit = async () => (await readFile(join(stateDir, 'audit.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
  const timed = async () => {
    const io = memoryIo();
    const started = performance.now();
    const code = await run(argv, { io, now: () => new Date(), cwd: process.cwd(), env: { HOME: process.env.HOME } });
    if (code !== 0) throw new Error(`exit ${code}\n${io.err()}`);
    return performance.now() - started;
  };
  const clean = await timed();
  const first = await audit();
  const again = await timed();
  const second = (await audit()).slice(first.length);
  const perHost = (records: AuditRecord[]) => NODES.map((n) => records.filter((r) => r.host === n && r.op === 'exec').length).join('/');
  console.log(`5 lab nodes (1 control plane, 4 workers), copy-bundle ${values.copy}, phases ${PHASES.join(', ')}`);
  console.log('| run | wall (s) | exec commands per node (cp1/w1/w2/w3/w4) | mutating |\n|---|---|---|---|');
  console.log(`| from clean | ${(clean / 1000).toFixed(1)} | ${perHost(first)} | ${first.filter((r) => r.readOnly !== true).length} |`);
  console.log(`| converged re-run | ${(again / 1000).toFixed(1)} | ${perHost(second)} | ${second.filter((r) => r.readOnly !== true).length} |`);
} finally {
  await site.replica.stop();
  await lab.stop();
}
