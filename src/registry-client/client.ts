// A client for the distribution (OCI) API: `GET /v2/` auth discovery, Bearer tokens (anonymous or with
// credentials), Basic auth, manifests with the right Accept header, blob streams with Range. Mirrors replace a
// registry's base URL; credentials never reach a message. Uses Node's built-in fetch (undici), which follows
// redirects to blob storage and drops Authorization when the redirect leaves the registry's origin.
import { createHash } from 'node:crypto';
import { HostUnreachableError, UserError, VerifyError, type FerryError } from '../errors.ts';
import { parseChallenge, pullScope, type Challenge } from './challenge.ts';
import { MANIFEST_ACCEPT } from './manifest.ts';
import type { ImageReference } from './reference.ts';
import { DEFAULT_RETRY, TransientError, withRetry, type RetryPolicy } from './retry.ts';

export interface Credentials {
  username: string;
  password: string;
}

export interface RegistryClientOptions {
  /** Registry host → base URL to use instead (`https://mirror.site`, or with a path prefix for the repository). */
  mirrors?: Readonly<Record<string, string>>;
  /** Keyed by the host contacted (the mirror's host:port when mirrored), else by the registry host. */
  credentials?: Readonly<Record<string, Credentials>>;
  /** Registry hosts reached over plain http (loopback tests, site registries without TLS). */
  insecureRegistries?: readonly string[];
  retry?: RetryPolicy;
  signal?: AbortSignal;
}

interface Endpoint {
  /** `https://host:port`, no path. */
  base: string;
  host: string;
  /** Prepended to the repository (a mirror's path), '' or ending in '/'. */
  prefix: string;
  credentials?: Credentials;
}

/** A request body; a stream body is made anew for each try (a 401 retry needs a fresh one). */
export type RequestBody = Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

export interface RequestOptions {
  method?: string;
  accept?: string;
  range?: string;
  /** Statuses handed back instead of thrown (e.g. 416 for a stale Range, 404 for a HEAD). */
  allow?: readonly number[];
  body?: () => RequestBody;
  contentType?: string;
  contentLength?: number;
  /** Upload chunk position, `start-end` inclusive (distribution's form, no unit). */
  contentRange?: string;
  /** Ask for a pull+push token instead of pull. */
  push?: boolean;
  /** Absolute or registry-relative URL instead of /v2/<repository>/<path> (upload Locations). */
  url?: string;
}

export interface FetchedManifest {
  bytes: Buffer;
  digest: string;
  contentType: string | undefined;
}

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export class RegistryClient {
  readonly #options: RegistryClientOptions;
  readonly #retry: RetryPolicy;
  /** Per endpoint base: the challenge `GET /v2/` answered with (null: no auth needed). */
  readonly #challenges = new Map<string, Promise<Challenge | null>>();
  /** Per endpoint base + scope: the Authorization header value. */
  readonly #tokens = new Map<string, Promise<string>>();

  constructor(options: RegistryClientOptions = {}) {
    this.#options = options;
    this.#retry = options.retry ?? DEFAULT_RETRY;
  }

  /** Where requests for `registry` go: its mirror, or itself over https (http when listed insecure). */
  endpoint(registry: string): Endpoint {
    const mirror = this.#options.mirrors?.[registry];
    const creds = this.#options.credentials ?? {};
    if (mirror !== undefined) {
      let url: URL;
      try {
        url = new URL(mirror);
      } catch {
        throw new UserError(`mirror for ${registry} is not a URL`, { hint: 'write it as https://host[:port][/path]' });
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        throw new UserError(`mirror for ${registry} must be an http or https URL`, { hint: 'write it as https://host[:port][/path]' });
      }
      if (url.username || url.password) {
        throw new UserError(`mirror for ${registry} carries credentials in its URL`, { hint: 'put them under credentials, keyed by the mirror host' });
      }
      const path = url.pathname.replace(/^\/+|\/+$/g, '');
      const found = creds[url.host] ?? creds[registry];
      return { base: `${url.protocol}//${url.host}`, host: url.host, prefix: path ? `${path}/` : '', ...(found ? { credentials: found } : {}) };
    }
    const api = registry === 'docker.io' ? 'registry-1.docker.io' : registry;
    const scheme = this.#options.insecureRegistries?.includes(registry) ? 'http' : 'https';
    const found = creds[registry];
    return { base: `${scheme}://${api}`, host: registry, prefix: '', ...(found ? { credentials: found } : {}) };
  }

  /** GET a manifest by tag or digest; checks the bytes against a pinned digest and Docker-Content-Digest. */
  async getManifest(ref: ImageReference, selector: string): Promise<FetchedManifest> {
    return withRetry(this.#retry, async () => {
      const res = await this.request(ref, `manifests/${selector}`, { accept: MANIFEST_ACCEPT });
      const bytes = await readCapped(res, MAX_MANIFEST_BYTES, this.endpoint(ref.registry).host);
      const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
      const where = `${ref.registry}/${ref.repository}@${selector}`;
      if (selector.startsWith('sha256:') && selector !== digest) {
        throw new TransientError(new VerifyError([`${where}: manifest bytes hash to ${digest}`]));
      }
      const claimed = res.headers.get('docker-content-digest');
      if (claimed?.startsWith('sha256:') && claimed !== digest) {
        throw new TransientError(new VerifyError([`${where}: registry says ${claimed}, bytes hash to ${digest}`]));
      }
      return { bytes, digest, contentType: res.headers.get('content-type') ?? undefined };
    }, this.#options.signal);
  }

  /** Open a blob for streaming from byte `offset`; the caller checks 200 vs 206 and reads the body. */
  async openBlob(ref: ImageReference, digest: string, offset: number): Promise<Response> {
    return this.request(ref, `blobs/${digest}`, offset > 0 ? { range: `bytes=${offset}-`, allow: [416] } : {});
  }

  /**
   * One authorised request under /v2/<repository>/ (or at `options.url`, e.g. an upload Location); 5xx, 429
   * and network errors come back as TransientError. A 401 is retried once with a fresh token.
   */
  async request(ref: ImageReference, path: string, options: RequestOptions = {}): Promise<Response> {
    const ep = this.endpoint(ref.registry);
    const url = options.url ? new URL(options.url, ep.base).href : `${ep.base}/v2/${ep.prefix}${ref.repository}/${path}`;
    const method = options.method ?? 'GET';
    const scope = pullScope(`${ep.prefix}${ref.repository}`, options.push ? ['pull', 'push'] : ['pull']);
    for (let fresh = false; ; fresh = true) {
      const authorization = await this.#authorization(ep, scope, fresh);
      const headers: Record<string, string> = {
        ...(options.accept ? { accept: options.accept } : {}),
        ...(options.range ? { range: options.range } : {}),
        ...(options.contentType ? { 'content-type': options.contentType } : {}),
        ...(options.contentLength !== undefined ? { 'content-length': String(options.contentLength) } : {}),
        ...(options.contentRange ? { 'content-range': options.contentRange } : {}),
        ...(authorization ? { authorization } : {}),
      };
      const res = await this.#fetch(ep, url, method, headers, options.body?.());
      if (res.status === 401 && !fresh) {
        await res.body?.cancel();
        continue;
      }
      if (res.ok || options.allow?.includes(res.status)) return res;
      await res.body?.cancel();
      throw this.#statusError(ep, method, url, res.status, ref);
    }
  }

  #statusError(ep: Endpoint, method: string, url: string, status: number, ref: ImageReference): FerryError | TransientError {
    const what = `${method} ${url} answered HTTP ${status}`;
    if (status >= 500 || status === 429 || status === 408) return new TransientError(new HostUnreachableError(ep.host, what));
    if (status === 401 || status === 403) return authFailed(ep, what);
    if (status === 404) {
      return new UserError(`${what}: ${ref.registry}/${ref.repository} has no such manifest or blob`, {
        hint: 'check the image name and tag in the lock or spec, and the mirror for that registry',
      });
    }
    return new UserError(what);
  }

  async #fetch(ep: Endpoint, url: string, method: string, headers: Record<string, string>, body?: RequestBody): Promise<Response> {
    try {
      return await fetch(url, {
        method,
        headers,
        redirect: 'follow',
        ...(body !== undefined ? { body, duplex: 'half' } : {}),
        ...(this.#options.signal ? { signal: this.#options.signal } : {}),
      } as RequestInit);
    } catch (error) {
      if (this.#options.signal?.aborted) throw error;
      const why = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new TransientError(new HostUnreachableError(ep.host, `${method} ${url}: ${why?.code ?? why?.message ?? String(error)}`, { cause: error }));
    }
  }

  async #authorization(ep: Endpoint, scope: string, fresh: boolean): Promise<string | undefined> {
    let challenge = this.#challenges.get(ep.base);
    if (!challenge) {
      challenge = withRetry(this.#retry, () => this.#discover(ep), this.#options.signal);
      this.#challenges.set(ep.base, challenge);
      challenge.catch(() => this.#challenges.delete(ep.base));
    }
    const found = await challenge;
    if (found === null) return undefined;
    if (found.scheme === 'basic') {
      if (!ep.credentials) throw authFailed(ep, `${ep.base}/v2/ asks for Basic auth and no credentials are configured`);
      return `Basic ${Buffer.from(`${ep.credentials.username}:${ep.credentials.password}`).toString('base64')}`;
    }
    const key = `${ep.base} ${scope}`;
    let token = fresh ? undefined : this.#tokens.get(key);
    if (!token) {
      token = withRetry(this.#retry, () => this.#token(ep, found, scope), this.#options.signal);
      this.#tokens.set(key, token);
      token.catch(() => this.#tokens.delete(key));
    }
    return token;
  }

  /** `GET /v2/`: 200 means no auth, 401 names the scheme. */
  async #discover(ep: Endpoint): Promise<Challenge | null> {
    const url = `${ep.base}/v2/`;
    const res = await this.#fetch(ep, url, 'GET', {});
    await res.body?.cancel();
    if (res.ok) return null;
    if (res.status === 401) {
      const header = res.headers.get('www-authenticate') ?? '';
      const challenge = parseChallenge(header);
      if (challenge) return challenge;
      throw new UserError(`${url} asks for an auth scheme ferry does not speak: ${JSON.stringify(header.split(' ')[0])}`);
    }
    const error = this.#statusError(ep, 'GET', url, res.status, { registry: ep.host, repository: '' });
    if (error instanceof TransientError || res.status >= 500) throw error;
    throw new UserError(`${url} answered HTTP ${res.status}: not a registry API endpoint`);
  }

  /** The token flow of the distribution auth spec: GET realm?service=&scope=, with Basic credentials if any. */
  async #token(ep: Endpoint, challenge: Extract<Challenge, { scheme: 'bearer' }>, scope: string): Promise<string> {
    const url = new URL(challenge.realm);
    if (challenge.service !== undefined) url.searchParams.set('service', challenge.service);
    url.searchParams.set('scope', scope);
    const headers: Record<string, string> = ep.credentials
      ? { authorization: `Basic ${Buffer.from(`${ep.credentials.username}:${ep.credentials.password}`).toString('base64')}` }
      : {};
    const res = await this.#fetch(ep, url.href, 'GET', headers);
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw authFailed(ep, `token server ${url.origin}${url.pathname} refused ${ep.credentials ? `user ${JSON.stringify(ep.credentials.username)}` : 'an anonymous token'} for ${scope} (HTTP ${res.status})`);
    }
    if (!res.ok) {
      await res.body?.cancel();
      const error = new HostUnreachableError(ep.host, `token server ${url.origin}${url.pathname} answered HTTP ${res.status}`);
      throw res.status >= 500 ? new TransientError(error) : error;
    }
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new UserError(`token server ${url.origin}${url.pathname} sent no token`);
    return `Bearer ${token}`;
  }
}

function authFailed(ep: Endpoint, what: string): UserError {
  const who = ep.credentials ? `as user ${JSON.stringify(ep.credentials.username)}` : 'anonymously';
  return new UserError(`authentication to ${ep.host} failed ${who}: ${what}`, {
    hint: ep.credentials ? `check the password for ${ep.host} in the spec's credentials` : `add credentials for ${ep.host} to the spec`,
  });
}

async function readCapped(res: Response, max: number, host: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body ?? []) {
      total += chunk.length;
      if (total > max) throw new UserError(`${host} sent a manifest over ${max} bytes`);
      chunks.push(Buffer.from(chunk));
    }
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new TransientError(new HostUnreachableError(host, `manifest body cut short: ${String(error)}`, { cause: error }));
  }
  return Buffer.concat(chunks);
}
