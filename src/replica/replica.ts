// The upstream replica: the internet of bundles/gpu-cluster.yaml, offline. One file server on 127.0.0.1 answers
// `/<host>/<path>` for the package repos, key URLs, release files and manifests (with the real hosts' redirects),
// and one registry front per upstream registry; `mirrorsFile` writes the host → loopback mapping for
// `ferry bundle build --mirrors`. Content comes from ensureReplicaContent (cached); `stop()` ends every process
// and server it started, by PID.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ensureReplicaContent, type ReplicaContent, type ReplicaInputs } from './content.ts';
import { machineDebianMirror } from './debian-debs.ts';
import { sendFile, startFileServer, type Route } from './file-server.ts';
import { mirrorsDocument, type MirrorsDocument } from './mirrors-file.ts';
import { startRegistries } from './registries.ts';
import type { TokenRequestLog } from './token-server.ts';
import { tokenSigner } from './token-server.ts';
import { hostPath, REGISTRIES, UPSTREAM, type ReplicaRegistry } from './upstreams.ts';

export interface ReplicaOptions extends ReplicaInputs {
  /** The NGC API key nvcr.io accepts with user `$oauthtoken` (default: a random one, see `ngcApiKey`). */
  ngcApiKey?: string;
}

export interface Replica {
  /** The file server, `http://127.0.0.1:PORT`; `/<host>/<path>` is `https://<host>/<path>` upstream. */
  origin: string;
  /** Upstream registry host → its front's base URL. */
  registries: Record<ReplicaRegistry, string>;
  /** The key to put in NGC_API_KEY (the spec's credential for nvcr.io). */
  ngcApiKey: string;
  content: ReplicaContent;
  /** The mapping document (also what mirrorsFile writes). */
  mirrors: MirrorsDocument;
  /** An upstream URL → where the replica serves it (`https://download.docker.com/x` → `http://127.0.0.1:P/download.docker.com/x`). */
  url: (upstream: string) => string;
  /** The processes it started (docker-registry, one per registry); `stop()` ends them. */
  pids: number[];
  /** Token requests per registry, in order. */
  tokenLog: Record<string, TokenRequestLog[]>;
  /** Serve these bytes instead of the file at an upstream URL (undefined: stop); for fault-injection tests. */
  override: (upstream: string, body: Buffer | undefined) => void;
  /** Write the mapping for `ferry bundle build --mirrors`; returns the path. */
  mirrorsFile: (path: string) => Promise<string>;
  stop: () => Promise<void>;
}

/** Build (or reuse) the content and start serving it on loopback. */
export async function startReplica(options: ReplicaOptions): Promise<Replica> {
  const content = await ensureReplicaContent(options);
  const debian = await machineDebianMirror();
  const runDir = await mkdtemp(join(tmpdir(), 'ferry-replica-'));
  const ngcApiKey = options.ngcApiKey ?? randomBytes(24).toString('base64url');
  const www = join(content.dir, 'www');
  const overrides = new Map<string, Buffer>();
  let hostRoutes: Route = () => false;
  const minor = options.kubernetesMinor;
  // Both of pkgs.k8s.io's repos of a minor (deb/ and rpm/) answer 302 to the same place on the CDN.
  const k8sFrom = `/${hostPath(UPSTREAM.kubernetes(minor)).replace(/deb\/$/, '')}`;
  const k8sTo = `/${hostPath(UPSTREAM.kubernetesCdn(minor)).replace(/deb\/$/, '')}`;
  let origin = '';
  const routes: Route[] = [
    (req, res, path) => {
      const body = overrides.get(path);
      if (!body) return false;
      res.writeHead(200, { 'content-length': body.length }).end(req.method === 'HEAD' ? undefined : body);
      return true;
    },
    (req, res, path) => {
      // GitHub release downloads: 302 to a signed, short-lived object URL carrying the file name.
      const object = content.redirects[path.slice(1)];
      if (!object) return false;
      const name = encodeURIComponent(`attachment; filename=${path.split('/').pop()}`);
      const query = `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=300&X-Amz-Date=${new Date().toISOString().replace(/[-:]|\.\d+/g, '')}&response-content-disposition=${name}&response-content-type=application%2Foctet-stream`;
      res.writeHead(302, { location: `${origin}/${object}?${query}` }).end();
      return true;
    },
    (req, res, path) => {
      // pkgs.k8s.io answers every path of a repo with 302 to prod-cdn.packages.k8s.io.
      if (!path.startsWith(k8sFrom)) return false;
      res.writeHead(302, { location: `${origin}${k8sTo}${path.slice(k8sFrom.length)}` }).end();
      return true;
    },
    (req, res, path) => hostRoutes(req, res, path),
  ];
  const files = await startFileServer(www, routes);
  origin = files.origin;
  let registries: Awaited<ReturnType<typeof startRegistries>>;
  try {
    registries = await startRegistries({
      runDir, registries: REGISTRIES, storageOf: (r) => join(content.dir, 'registries', r), signer: await tokenSigner(content.dir),
      mainOrigin: origin, ngcApiKey, sendBlob: (req, res, file) => sendFile(req, res, file),
    });
  } catch (error) {
    await files.close();
    await rm(runDir, { recursive: true, force: true });
    throw error;
  }
  hostRoutes = registries.hostRoutes;
  const registryUrls = Object.fromEntries(registries.endpoints.map((e) => [e.registry, e.url])) as Record<ReplicaRegistry, string>;
  const extraHosts = [...new Set((options.files ?? []).map((f) => new URL(f.url).host))];
  const mirrors = mirrorsDocument({ origin, debian, registries: registryUrls, extraHosts });
  let stopped: Promise<void> | undefined;
  return {
    origin,
    registries: registryUrls,
    ngcApiKey,
    content,
    mirrors,
    url: (upstream) => `${origin}/${hostPath(upstream)}`,
    tokenLog: registries.tokenLog,
    pids: registries.pids,
    override: (upstream, body) => (body ? overrides.set(`/${hostPath(upstream)}`, body) : overrides.delete(`/${hostPath(upstream)}`)),
    mirrorsFile: async (path) => {
      await writeFile(path, `# ferry upstream replica: upstream → loopback (for ferry bundle build --mirrors)\n${stringify({ apiVersion: 'ferry.dev/v1alpha1', kind: 'Mirrors', ...mirrors })}`);
      return path;
    },
    stop: () =>
      (stopped ??= (async () => {
        await registries.stop();
        await files.close();
        await rm(runDir, { recursive: true, force: true });
      })()),
  };
}
