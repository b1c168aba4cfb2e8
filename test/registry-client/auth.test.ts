// Basic and Bearer-token auth against real distribution registries on loopback (htpasswd, and token auth with
// a test token server whose JWTs the registry itself verifies).
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProgressEvent, SourceContext } from '../../src/bundle/artifact.ts';
import { collectImages } from '../../src/bundle/sources/images.ts';
import { ExitCode, UserError } from '../../src/errors.ts';
import { FIXTURES, pushFixtures, rawManifest } from '../support/fixture-images.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';
import { startTokenServer, type TokenServer } from '../support/token-server.ts';

const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const USER = 'ferry';
// A test-only password, generated per run so no fixed secret sits in the repository.
const PASSWORD = `pw-${Math.random().toString(36).slice(2)}`;
const ONLY = ['app-a', 'app-b'] as const;

let work: string;
let run = 0;
const freshCtx = (events: ProgressEvent[] = []): SourceContext => {
  run++;
  return { bundleDir: join(work, `bundle-${run}`), cacheDir: join(work, `cache-${run}`), concurrency: 3, progress: (e) => events.push(e) };
};

async function failure(promise: Promise<unknown>): Promise<UserError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(UserError);
  return error as UserError;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ferry-auth-'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('Basic auth (htpasswd)', { timeout: 60_000 }, () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry(join(work, 'basic'), { kind: 'htpasswd', username: USER, password: PASSWORD });
    await pushFixtures(join(work, 'basic-fixtures'), { host: registry.host, creds: `${USER}:${PASSWORD}`, only: ONLY });
  }, 120_000);
  afterAll(async () => registry?.stop());

  const options = (password?: string) => ({
    images: [{ ref: `${registry.host}/${FIXTURES['app-a']}` }],
    platform: 'linux/amd64',
    insecureRegistries: [registry.host],
    ...(password !== undefined ? { credentials: { [registry.host]: { username: USER, password } } } : {}),
  });

  it('pulls with the right credentials, digests intact', async () => {
    const events: ProgressEvent[] = [];
    const artifacts = await collectImages(options(PASSWORD), freshCtx(events));
    const raw = await rawManifest(registry.host, FIXTURES['app-a'], `${USER}:${PASSWORD}`);
    expect(artifacts.find((a) => a.digest === sha(raw))?.kind).toBe('image-index');
    expect(JSON.stringify(events)).not.toContain(PASSWORD);
  });

  it('fails with a clear error naming host and user, never the password, on a wrong password', async () => {
    const error = await failure(collectImages(options('wrong-password'), freshCtx()));
    expect(error.exitCode).toBe(ExitCode.badInput);
    expect(error.message).toContain(`authentication to ${registry.host} failed as user "${USER}"`);
    expect(error.hint).toMatch(/check the password/);
    expect(`${error.message} ${error.hint}`).not.toContain('wrong-password');
  });

  it('asks for credentials when none are configured', async () => {
    const error = await failure(collectImages(options(), freshCtx()));
    expect(error.message).toMatch(/asks for Basic auth and no credentials are configured/);
    expect(error.hint).toBe(`add credentials for ${registry.host} to the spec`);
  });
});

describe('Bearer token auth (distribution auth: token)', { timeout: 60_000 }, () => {
  let registry: RunningRegistry;
  let tokens: TokenServer;
  beforeAll(async () => {
    tokens = await startTokenServer(work, { username: USER, password: PASSWORD, publicRepositories: [FIXTURES['app-a'].split(':')[0]!] });
    registry = await startRegistry(join(work, 'token'), {
      kind: 'token',
      realm: tokens.realm,
      service: tokens.service,
      issuer: tokens.issuer,
      rootCertBundle: tokens.certFile,
    });
    await pushFixtures(join(work, 'token-fixtures'), { host: registry.host, creds: `${USER}:${PASSWORD}`, only: ONLY });
  }, 120_000);
  afterAll(async () => {
    await registry?.stop();
    await tokens?.close();
  });

  const ref = (name: (typeof ONLY)[number]) => `${registry.host}/${FIXTURES[name]}`;

  it('pulls a public repository with an anonymous token', async () => {
    tokens.requests.length = 0;
    const artifacts = await collectImages({ images: [{ ref: ref('app-a') }], platform: 'linux/amd64', insecureRegistries: [registry.host] }, freshCtx());
    expect(tokens.requests).toContainEqual({ basic: false, scope: `repository:${FIXTURES['app-a'].split(':')[0]}:pull`, granted: true });
    expect(tokens.requests.every((r) => !r.basic)).toBe(true);
    const raw = await rawManifest(registry.host, FIXTURES['app-a'], `${USER}:${PASSWORD}`);
    expect(artifacts.some((a) => a.digest === sha(raw))).toBe(true);
  });

  it('refuses a private repository to an anonymous caller with a clear error', async () => {
    const error = await failure(collectImages({ images: [{ ref: ref('app-b') }], platform: 'linux/amd64', insecureRegistries: [registry.host] }, freshCtx()));
    expect(error.message).toMatch(new RegExp(`authentication to ${registry.host} failed anonymously`));
  });

  it('pulls a private repository with a token bought by Basic credentials', async () => {
    tokens.requests.length = 0;
    const artifacts = await collectImages(
      { images: [{ ref: ref('app-b') }], platform: 'linux/amd64', insecureRegistries: [registry.host], credentials: { [registry.host]: { username: USER, password: PASSWORD } } },
      freshCtx(),
    );
    const raw = await rawManifest(registry.host, FIXTURES['app-b'], `${USER}:${PASSWORD}`);
    expect(artifacts.some((a) => a.digest === sha(raw))).toBe(true);
    expect(tokens.requests.length).toBeGreaterThan(0);
    expect(tokens.requests.every((r) => r.basic && r.granted)).toBe(true);
  });

  it('reports a token server refusal of wrong credentials without the password', async () => {
    const error = await failure(
      collectImages(
        { images: [{ ref: ref('app-b') }], platform: 'linux/amd64', insecureRegistries: [registry.host], credentials: { [registry.host]: { username: USER, password: 'nope-nope' } } },
        freshCtx(),
      ),
    );
    expect(error.message).toMatch(/token server .* refused user "ferry"/);
    expect(`${error.message} ${error.hint}`).not.toContain('nope-nope');
  });
});
