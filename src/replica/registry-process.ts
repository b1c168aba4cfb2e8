// Debian's `docker-registry` (distribution 2.8) on a loopback port, with a config file written here — anonymous,
// htpasswd Basic auth, or token auth against a token server. Stopped by PID. The tests' registries and the
// upstream replica's registries run on it.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { stringify } from 'yaml';

export interface RunningRegistry {
  /** `127.0.0.1:PORT`, the registry host in references. */
  host: string;
  /** Root of the filesystem storage driver (blobs under docker/registry/v2/blobs/sha256/xx/<hex>/data). */
  storage: string;
  /** The docker-registry process. */
  pid: number;
  stop: () => Promise<void>;
}

export type RegistryAuth =
  | { kind: 'none' }
  | { kind: 'htpasswd'; username: string; password: string }
  | { kind: 'token'; realm: string; service: string; issuer: string; rootCertBundle: string };

export interface RegistryOptions {
  /** Storage root (default `<dir>/storage`). */
  storage?: string;
}

/** A free TCP port on loopback (bound and released; the registry takes it right after). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Stop a child we started, by its PID: SIGTERM, then SIGKILL after a grace period. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Start `docker-registry serve` with storage under `dir`; resolves when `GET /v2/` answers. */
export async function startRegistry(dir: string, auth: RegistryAuth = { kind: 'none' }, options: RegistryOptions = {}): Promise<RunningRegistry> {
  // The free port may be taken between probing and binding: try a few.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(dir, auth, options, await freePort());
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
}

async function startOnce(dir: string, auth: RegistryAuth, options: RegistryOptions, port: number): Promise<RunningRegistry> {
  const storage = options.storage ?? join(dir, 'storage');
  await mkdir(storage, { recursive: true });
  await mkdir(dir, { recursive: true });
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: 'error', accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: storage }, delete: { enabled: true } },
    http: { addr: `127.0.0.1:${port}`, secret: randomBytes(16).toString('hex') },
  };
  if (auth.kind === 'htpasswd') {
    const file = join(dir, 'htpasswd');
    const { stdout } = await execa('htpasswd', ['-Bbn', auth.username, auth.password]);
    await writeFile(file, `${stdout.trim()}\n`);
    config.auth = { htpasswd: { realm: 'ferry-test', path: file } };
  } else if (auth.kind === 'token') {
    config.auth = { token: { realm: auth.realm, service: auth.service, issuer: auth.issuer, rootcertbundle: auth.rootCertBundle } };
  }
  const configFile = join(dir, 'config.yml');
  await writeFile(configFile, stringify(config));
  const child = spawn('docker-registry', ['serve', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const host = `127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited ${child.exitCode}: ${stderr}`);
    const up = await fetch(`http://${host}/v2/`).then((r) => r.status === 200 || r.status === 401, () => false);
    if (up) break;
    if (i > 100) {
      await stopChild(child);
      throw new Error(`docker-registry did not answer on ${host}: ${stderr}`);
    }
    await sleep(50);
  }
  return { host, storage, pid: child.pid!, stop: () => stopChild(child) };
}

/** Where distribution's filesystem driver keeps a blob's bytes. */
export function registryBlobPath(registry: RunningRegistry, digest: string): string {
  const hex = digest.replace(/^sha256:/, '');
  return join(registry.storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
}
