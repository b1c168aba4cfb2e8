// The replica's registries: per upstream registry a real docker-registry (distribution 2.8) on loopback behind a
// small Node front on its own port, so each answers `GET /v2/` at its root as the real host does. docker.io,
// quay.io, ghcr.io and nvcr.io use `auth: token` with the token endpoint where the real host has it (nvcr.io's
// challenge without `service`, its token only for `$oauthtoken` + the API key); registry.k8s.io is archeio's
// behaviour: a correlation token, manifests 307 to the upstream registry, blobs 307 to the S3 bucket host.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { closeServer } from './file-server.ts';
import { startRegistry, type RunningRegistry } from './registry-process.ts';
import { tokenHandler, type TokenPolicy, type TokenRequestLog, type TokenSigner } from './token-server.ts';
import { K8S_BLOB_HOST, K8S_UPSTREAM_PATH, NGC_USERNAME, TOKEN_ENDPOINTS, type ReplicaRegistry } from './upstreams.ts';

export interface ReplicaRegistryEndpoint {
  registry: ReplicaRegistry;
  /** `http://127.0.0.1:PORT`, the front clients talk to. */
  url: string;
  /** The docker-registry behind the front (`127.0.0.1:PORT`). */
  backend: string;
  /** Root of the backend's storage. */
  storage: string;
}

export interface RunningRegistries {
  endpoints: ReplicaRegistryEndpoint[];
  /** Token requests per registry, for tests to assert the flow. */
  tokenLog: Record<string, TokenRequestLog[]>;
  /** Routes for the main file server: token endpoints on other hosts (auth.docker.io) and registry.k8s.io's blob bucket. */
  hostRoutes: (req: IncomingMessage, res: ServerResponse, path: string) => boolean;
  /** The docker-registry processes. */
  pids: number[];
  stop: () => Promise<void>;
}

const listen = async (server: Server): Promise<string> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
};

/** Forward a request to the backend unchanged (Host kept, so the registry writes the front's URLs). */
function proxy(backend: string, req: IncomingMessage, res: ServerResponse, rewrite?: (headers: Record<string, string | string[] | undefined>) => void): void {
  const [host, port] = backend.split(':');
  const up = request({ host, port: Number(port), method: req.method, path: req.url, headers: req.headers }, (r) => {
    const headers = { ...r.headers };
    rewrite?.(headers);
    res.writeHead(r.statusCode ?? 502, headers);
    r.pipe(res);
  });
  up.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
  req.pipe(up);
}

/** Where distribution's filesystem driver keeps a blob. */
export function blobFile(storage: string, digest: string): string {
  const hex = digest.replace(/^sha256:/, '');
  return join(storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
}

/**
 * Start the registries. `storageOf(registry)` names the seeded storage (hard-linked into `runDir`, so the cache is
 * never written); `mainOrigin` is the file server that serves auth.docker.io and the S3 bucket host.
 */
export async function startRegistries(o: {
  runDir: string;
  registries: readonly ReplicaRegistry[];
  storageOf: (registry: ReplicaRegistry) => string;
  signer: TokenSigner;
  mainOrigin: string;
  ngcApiKey: string;
  /** nvcr.io repositories pullable without the API key (default none: every pull needs the key). */
  ngcPublicRepositories?: readonly string[];
  sendBlob: (req: IncomingMessage, res: ServerResponse, file: string) => Promise<void>;
}): Promise<RunningRegistries> {
  const endpoints: ReplicaRegistryEndpoint[] = [];
  const tokenLog: Record<string, TokenRequestLog[]> = {};
  const backends: RunningRegistry[] = [];
  const fronts: Server[] = [];
  const hostTokenRoutes = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>();
  let k8sStorage: string | undefined;
  try {
    for (const registry of o.registries) {
      const dir = join(o.runDir, registry);
      const storage = join(dir, 'storage');
      await mkdir(dir, { recursive: true });
      if (existsSync(o.storageOf(registry))) await execa('cp', ['-al', o.storageOf(registry), storage]);
      else await mkdir(storage, { recursive: true });
      let handler: (req: IncomingMessage, res: ServerResponse) => void = () => undefined;
      const front = createServer((req, res) => handler(req, res));
      fronts.push(front);
      const frontHost = await listen(front);
      if (registry === 'registry.k8s.io') {
        const backend = await startRegistry(dir, { kind: 'none' }, { storage });
        backends.push(backend);
        k8sStorage = storage;
        handler = archeio(frontHost, backend.host, o.mainOrigin, storage);
        endpoints.push({ registry, url: `http://${frontHost}`, backend: backend.host, storage });
        continue;
      }
      const ep = TOKEN_ENDPOINTS[registry];
      const service = ep.service ?? registry;
      const issuer = `ferry-replica-${registry}`;
      const policy: TokenPolicy = registry === 'nvcr.io'
        ? { username: NGC_USERNAME, password: o.ngcApiKey, publicRepositories: o.ngcPublicRepositories ?? [] }
        : { publicRepositories: 'all' };
      const log: TokenRequestLog[] = (tokenLog[registry] = []);
      const tokens = tokenHandler(o.signer, { service, issuer, policy, log });
      const realm = ep.host === 'registry' ? `http://${frontHost}${ep.path}` : `${o.mainOrigin}/${ep.host}${ep.path}`;
      if (ep.host !== 'registry') hostTokenRoutes.set(`/${ep.host}${ep.path}`, tokens);
      const backend = await startRegistry(dir, { kind: 'token', realm, service, issuer, rootCertBundle: o.signer.certFile }, { storage });
      backends.push(backend);
      handler = (req, res) => {
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        if (ep.host === 'registry' && path === ep.path) return tokens(req, res);
        if (registry !== 'nvcr.io') return proxy(backend.host, req, res);
        // nvcr.io names no service in its challenge: Bearer realm="https://nvcr.io/proxy_auth",scope="..."
        return proxy(backend.host, req, res, (h) => {
          const v = h['www-authenticate'];
          if (typeof v === 'string') h['www-authenticate'] = v.replace(/,service="[^"]*"/, '');
        });
      };
      endpoints.push({ registry, url: `http://${frontHost}`, backend: backend.host, storage });
    }
  } catch (error) {
    await Promise.all([...fronts.map(closeServer), ...backends.map((b) => b.stop())]);
    throw error;
  }
  const bucketPrefix = `/${K8S_BLOB_HOST}/containers/images/`;
  return {
    endpoints,
    tokenLog,
    pids: backends.map((b) => b.pid),
    hostRoutes: (req, res, path) => {
      const tokens = hostTokenRoutes.get(path);
      if (tokens) {
        tokens(req, res);
        return true;
      }
      if (path.startsWith(bucketPrefix) && k8sStorage) {
        const digest = decodeURIComponent(path.slice(bucketPrefix.length));
        if (!/^sha256:[a-f0-9]{64}$/.test(digest)) return false;
        void o.sendBlob(req, res, blobFile(k8sStorage, digest));
        return true;
      }
      return false;
    },
    stop: async () => {
      await Promise.all(fronts.map(closeServer));
      await Promise.all(backends.map((b) => b.stop()));
    },
  };
}

/**
 * registry.k8s.io as archeio answers non-cloud clients: `/v2/` 401 with a correlation-token challenge (realm /token
 * on itself), blob requests 307 to the S3 bucket when it has the blob, every other /v2/ request 307 to the
 * upstream registry under k8s-artifacts-prod/images (here the anonymous backend).
 */
function archeio(self: string, upstream: string, mainOrigin: string, storage: string): (req: IncomingMessage, res: ServerResponse) => void {
  const blob = /^\/v2\/.*\/blobs\/([^/]+:[a-zA-Z0-9=_-]+)$/;
  const pullId = (req: IncomingMessage) => /^Bearer ([0-9a-fA-F]{32})$/.exec(req.headers.authorization ?? '')?.[1];
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain' }).end('Only GET and HEAD are allowed.\n');
      return;
    }
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/token') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: randomBytes(16).toString('hex'), expires_in: 3600 }));
      return;
    }
    if (!path.startsWith('/v2')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
      return;
    }
    if (path === '/v2/' || path === '/v2') {
      const headers = { 'docker-distribution-api-version': 'registry/2.0' };
      if (pullId(req)) res.writeHead(200, headers).end();
      else res.writeHead(401, { ...headers, 'www-authenticate': `Bearer realm="http://${self}/token",service="${self}"` }).end('authentication required\n');
      return;
    }
    const id = pullId(req) ?? randomBytes(16).toString('hex');
    const m = blob.exec(path);
    const target = m && existsSync(blobFile(storage, m[1]!))
      ? `${mainOrigin}/${K8S_BLOB_HOST}/containers/images/${m[1]}?rid=${id}`
      : `http://${upstream}/v2/${K8S_UPSTREAM_PATH}/${path.slice('/v2/'.length)}?rid=${id}`;
    res.writeHead(307, { location: target, 'x-request-id': id }).end();
  };
}
