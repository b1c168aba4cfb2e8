// Seed-node copy for copy-bundle: the admin host copies the bundle parts once, to one seed node; every other node
// fetches the files it lacks from the seed inside the cluster network, from a temporary read-only server
// (seed-serve.py: plain sockets, serves only the listed files, bound to the seed's cluster address on a random
// port, started with a time limit and stopped by its PID), each file hashed while it arrives (seed-fetch.py) and
// renamed into place only when its size and sha256 match.
import { randomInt } from 'node:crypto';
import { z } from 'zod';
import type { InventoryHost } from '../config/inventory.ts';
import { UserError } from '../errors.ts';
import type { Host } from '../hosts/host.ts';
import { sh, type ShellCommand } from '../hosts/shell.ts';
import { productFile } from '../ship/embedded.ts';
import { NODE_BUNDLE_DIR, type NodeBundleFile } from './bundle-on-node.ts';

export const CopyParams = z
  .object({
    /** direct: admin → every node; seed: admin → seed → the others; auto: seed above `seedAbove` nodes. */
    mode: z.enum(['auto', 'direct', 'seed']).default('auto'),
    seedAbove: z.number().int().min(1).default(8),
    /** The seed node (inventory name); default the first control plane. */
    seed: z.string().optional(),
  })
  .strict();
export type CopyParams = z.infer<typeof CopyParams>;

/** The longest a seed server may live, whatever happens to ferry: it serves one phase. */
export const SEED_SERVER_SECONDS = 1800;

/** The seed node, or undefined when the copy goes direct to every node. */
export function seedNode(hosts: readonly InventoryHost[], params: CopyParams): InventoryHost | undefined {
  const seeded = params.mode === 'seed' || (params.mode === 'auto' && hosts.length > params.seedAbove);
  if (!seeded || hosts.length < 2) return undefined;
  if (params.seed === undefined) return hosts.find((h) => h.roles.includes('control-plane')) ?? hosts[0];
  const named = hosts.find((h) => h.name === params.seed);
  if (!named) throw new UserError(`copy-bundle: seed "${params.seed}" is not a host of the inventory`, { hint: `one of: ${hosts.map((h) => h.name).join(', ')}` });
  return named;
}

/** A Python literal of `value` (JSON of strings, numbers, lists and objects reads the same in Python). */
function pythonConfig(value: unknown): string {
  return `CONFIG = ${JSON.stringify(value)}\n`;
}

/** The shell that starts the seed server in the background, time-limited, and prints its PID. */
export function serverCommand(python: string, program: string): ShellCommand {
  return sh`cd ${NODE_BUNDLE_DIR} && { nohup timeout ${String(SEED_SERVER_SECONDS)} ${python} -c ${program} </dev/null >/dev/null 2>&1 & echo $!; }`;
}

/** The server program: bind to the seed's cluster address, serve only these files. */
export function serverProgram(source: string, address: string, port: number, files: readonly NodeBundleFile[], root = NODE_BUNDLE_DIR): string {
  return pythonConfig({ address, port, root, files: files.map((f) => f.path) }) + source;
}

/** The fetcher program for one node: the files it lacks and where to get them. */
export function fetchProgram(source: string, server: { address: string; port: number }, files: readonly NodeBundleFile[], root = NODE_BUNDLE_DIR): string {
  return pythonConfig({ ...server, root, files: files.map(({ path, size, sha256 }) => ({ path, size, sha256 })) }) + source;
}

/** The interpreter on a node (platform-python on EL8, python3 elsewhere), or undefined (a read: observe's host marks it). */
export async function nodePython(host: Host): Promise<string | undefined> {
  const r = await host.exec({ shell: 'command -v python3 || command -v /usr/libexec/platform-python || true' });
  return r.stdout.trim().split('\n')[0] || undefined;
}

/** A running seed server: where the nodes fetch from, and how to stop it. */
export interface SeedServer {
  address: string;
  port: number;
  stop(): Promise<void>;
}

const source = (name: 'seed-serve.py' | 'seed-fetch.py') => productFile(`src/phases/${name}`);

/** Start the server on the seed (a random port in 20000-60999), serving `files`. */
export async function startSeedServer(seed: { host: Host; address: string }, python: string, files: readonly NodeBundleFile[]): Promise<SeedServer> {
  const port = randomInt(20000, 61000);
  const r = await seed.host.exec(serverCommand(python, serverProgram(await source('seed-serve.py'), seed.address, port, files)));
  const pid = r.stdout.trim();
  return {
    address: seed.address,
    port,
    async stop() {
      // The PID ferry started (timeout, which passes the TERM on to the server); never a kill by name.
      if (/^\d+$/.test(pid)) await seed.host.exec(['kill', '--', pid], { allowFailure: true });
    },
  };
}

/** Fetch `files` from the seed server onto `host`; every file is checked by size and sha256 before it is renamed. */
export async function fetchFromSeed(host: Host, python: string, server: SeedServer, files: readonly NodeBundleFile[]): Promise<void> {
  if (files.length === 0) return;
  const program = fetchProgram(await source('seed-fetch.py'), server, files);
  const r = await host.exec([python, '-'], { stdin: program, allowFailure: true, timeoutMs: SEED_SERVER_SECONDS * 1000 });
  if (r.exitCode === 0) return;
  const why = /ferry-seed-fetch bad (.*)/.exec(r.stdout)?.[1] ?? `exit ${r.exitCode}: ${r.stderr.trim().split('\n').at(-1) ?? ''}`;
  throw new UserError(`${host.name}: fetching from the seed failed: ${why}`, { hint: 'check that the nodes reach the seed on TCP 20000-60999, or give copy-bundle `with: {mode: direct}`' });
}
