// Loading every input a command reads, with the checks that need more than the file itself: the files it names exist
// and are readable, the versions it names are in the matrix. One pass, every problem at once, before any host is
// contacted (doctor, install, reset, add-node and registry load through here).
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { BundleSpec } from './bundle-spec.ts';
import { Inventory } from './inventory.ts';
import { loadYamlFile, unreadableFile, unusableDir } from './load.ts';
import { Lock } from './lock.ts';
import { SiteFile, SITE_FILE_LIMITS } from './site.ts';
import type { PathIssue } from './parse.ts';
import { loadMatrix } from '../matrix/load.ts';
import { UserError } from '../errors.ts';

/** The Kubernetes minors the matrix knows (e.g. "1.33"). */
export type KnownMinors = () => Promise<readonly string[]>;

const matrixMinors: KnownMinors = async () => (await loadMatrix()).matrix.kubernetes.releases.map((r) => r.minor);

/** A path from the inventory: `~/` is the user's home, relative paths are relative to the inventory file. */
export function inventoryPath(path: string, ctx: { homeDir: string; baseDir: string }): string {
  if (path === '~' || path.startsWith('~/')) return join(ctx.homeDir, path.slice(1));
  return isAbsolute(path) ? path : resolve(ctx.baseDir, path);
}

/** The string at `path` inside plain data, if there is one. */
function stringAt(raw: unknown, path: readonly (string | number)[]): string | undefined {
  let at: unknown = raw;
  for (const key of path) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string | number, unknown>)[key];
  }
  return typeof at === 'string' && at !== '' ? at : undefined;
}

async function fileIssue(path: readonly (string | number)[], file: string, what: string): Promise<PathIssue[]> {
  const problem = await unreadableFile(file);
  return problem ? [{ path, message: `${what} ${file}: ${problem}` }] : [];
}

async function versionIssue(path: readonly (string | number)[], version: string | undefined, minors: KnownMinors): Promise<PathIssue[]> {
  if (version === undefined || !/^\d+\.\d+(\.\d+)?$/.test(version)) return []; // the schema names a malformed one
  const known = await minors();
  const minor = version.split('.').slice(0, 2).join('.');
  return known.includes(minor) ? [] : [{ path, message: `Kubernetes ${version}: the matrix knows ${known.join(', ')} (ferry matrix list)` }];
}

export interface InventoryOptions {
  homeDir: string;
  /** --accept-new-host-keys: a known_hosts file that does not exist yet is created, so only its directory must. */
  acceptNewHostKeys?: boolean;
  minors?: KnownMinors;
}

/** Loads cluster.yaml: shape, meaning, the identity / known_hosts / lock files it names, its Kubernetes version. */
export async function loadInventory(file: string, options: InventoryOptions): Promise<Inventory> {
  const ctx = { homeDir: options.homeDir, baseDir: dirname(file) };
  return loadYamlFile(file, Inventory, {
    check: async (raw) => {
      const checks: Promise<PathIssue[]>[] = [];
      const identity = stringAt(raw, ['ssh', 'identity']);
      if (identity) checks.push(fileIssue(['ssh', 'identity'], inventoryPath(identity, ctx), 'SSH identity'));
      const hosts = (raw as { hosts?: unknown } | null)?.hosts;
      if (Array.isArray(hosts))
        hosts.forEach((_h, i) => {
          const own = stringAt(raw, ['hosts', i, 'ssh', 'identity']);
          if (own) checks.push(fileIssue(['hosts', i, 'ssh', 'identity'], inventoryPath(own, ctx), 'SSH identity'));
        });
      const known = stringAt(raw, ['ssh', 'knownHosts']);
      if (known) {
        const full = inventoryPath(known, ctx);
        checks.push(
          (async () => {
            const missing = await unreadableFile(full);
            if (!missing) return [];
            if (options.acceptNewHostKeys && missing === 'no such file' && !(await unusableDir(dirname(full)))) return [];
            const hint = missing === 'no such file' ? ' (ferry --accept-new-host-keys creates it, recording hosts never seen)' : '';
            return [{ path: ['ssh', 'knownHosts'], message: `known_hosts ${full}: ${missing}${hint}` }];
          })(),
        );
      }
      const lock = stringAt(raw, ['kubernetes', 'lock']);
      if (lock) checks.push(fileIssue(['kubernetes', 'lock'], inventoryPath(lock, ctx), 'lock'));
      checks.push(versionIssue(['kubernetes', 'version'], stringAt(raw, ['kubernetes', 'version']), options.minors ?? matrixMinors));
      return (await Promise.all(checks)).flat();
    },
  });
}

/** Loads ferry.lock.yaml: shape, versions that are versions, a platform ferry builds for, a Kubernetes minor the matrix knows. */
export async function loadLock(file: string, options: { minors?: KnownMinors } = {}): Promise<Lock> {
  return loadYamlFile(file, Lock, {
    check: async (raw) => versionIssue(['stack', 'kubernetes'], stringAt(raw, ['stack', 'kubernetes']), options.minors ?? matrixMinors),
  });
}

/** Loads a bundle spec: shape, meaning, and the registry password files it names (relative to `cwd`). */
export async function loadBundleSpec(file: string, options: { cwd: string }): Promise<BundleSpec> {
  return loadYamlFile(file, BundleSpec, {
    check: async (raw) => {
      const creds = (raw as { registries?: { credentials?: unknown } } | null)?.registries?.credentials;
      if (!Array.isArray(creds)) return [];
      const checks = creds.map((_c, i) => {
        const path = ['registries', 'credentials', i, 'passwordFile'];
        const named = stringAt(raw, path);
        return named ? fileIssue(path, resolve(options.cwd, named), 'password file') : Promise.resolve([]);
      });
      return (await Promise.all(checks)).flat();
    },
  });
}

/** Loads a site file (`ferry doctor --site-out`): shape, unique node names, package sets that hash to their keys. */
export async function loadSiteFile(file: string): Promise<SiteFile> {
  return loadYamlFile(file, SiteFile, { limits: SITE_FILE_LIMITS });
}

/** A --bundle directory must exist before anything runs (its files are checked by `ferry bundle verify`). */
export async function requireBundleDir(dir: string, flag = '--bundle'): Promise<void> {
  const problem = await unusableDir(dir);
  if (problem) throw new UserError(`${flag} ${dir}: ${problem}`, { hint: 'point it at the directory `ferry bundle build` or `ferry bundle unpack` wrote' });
}
