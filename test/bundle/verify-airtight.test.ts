// Everything in a bundle is covered: the public key, the signature file byte for byte, the chunk index, every chunk
// byte (tar padding included). Table rows name the damage and the problem verify must report; then a fuzz pass flips
// random bytes in every file of a signed bundle and of its chunk set (fixed seed) and expects exit 6 each time.
import { appendFile, cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleLayout } from '../../src/bundle/layout.ts';
import { walk } from '../../src/bundle/observe.ts';
import { packSplit } from '../../src/bundle/pack.ts';
import { fingerprint, generateKeyPair, parsePublicKey } from '../../src/bundle/sign.ts';
import { verifyBundle } from '../../src/bundle/verify.ts';
import { VerifyError } from '../../src/errors.ts';
import { runFerry } from '../cli/support/run-ferry.ts';
import { seededRandom } from '../support/seeded-random.ts';
import { makeBundle, tempDir } from './support/make-bundle.ts';

let made: Awaited<ReturnType<typeof makeBundle>>;
let work: string;
let chunks: string;
let pub: string;
const CHUNK = 64 * 1024;

beforeAll(async () => {
  made = await makeBundle();
  work = await tempDir('ferry-airtight-');
  chunks = join(work, 'chunks');
  await packSplit(made.dir, chunks, CHUNK);
  pub = join(work, 'trusted.pub');
  await writeFile(pub, made.keys.publicPem);
});
afterAll(async () => {
  await rm(made.dir, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

let copies = 0;
async function copyOf(dir: string): Promise<string> {
  const to = join(work, `copy-${copies++}`);
  await cp(dir, to, { recursive: true });
  return to;
}

async function problemsOf(dir: string, trusted: boolean): Promise<string[]> {
  const error = await verifyBundle(dir, { trustedKey: trusted ? made.publicKey : undefined }).then(() => undefined, (e: unknown) => e);
  expect(error, 'verify passed a damaged bundle').toBeInstanceOf(VerifyError);
  return [...(error as VerifyError).problems];
}

const edit = (file: string, change: (text: string) => string) => async (dir: string) => writeFile(join(dir, file), change(await readFile(join(dir, file), 'utf8')));

const directoryRows: { name: string; damage: (dir: string) => Promise<void>; expect: RegExp }[] = [
  { name: 'an altered ferry.pub', damage: async (d) => writeFile(join(d, BundleLayout.publicKey), generateKeyPair().publicPem), expect: /^ferry\.pub: content changed/ },
  { name: 'a deleted ferry.pub', damage: (d) => rm(join(d, BundleLayout.publicKey)), expect: /^ferry\.pub: missing$/ },
  { name: 'a deleted signature', damage: (d) => rm(join(d, BundleLayout.signature)), expect: /^manifest\.yaml\.sig: missing/ },
  { name: 'a keyFingerprint that is not the key’s', damage: edit(BundleLayout.signature, (t) => t.replace(/keyFingerprint: \S+/, `keyFingerprint: ${fingerprint(parsePublicKey(generateKeyPair().publicPem, 'x'))}`)), expect: /^manifest\.yaml\.sig: keyFingerprint SHA256:\S+ is not the signing key's SHA256:/ },
  { name: 'damaged base64 padding', damage: edit(BundleLayout.signature, (t) => t.replace(/==\n$/, '=\n')), expect: /^manifest\.yaml\.sig: signature is not 64 bytes of base64 with its padding intact/ },
  { name: 'padding bits that decode the same', damage: edit(BundleLayout.signature, (t) => t.replace(/([A-Za-z0-9+/])==\n$/, (_m, c: string) => `${c === 'A' ? 'B' : c === 'w' ? 'x' : String.fromCharCode(c.charCodeAt(0) ^ 1)}==\n`)), expect: /^manifest\.yaml\.sig: / },
  { name: 'a trailing space in the signature file', damage: edit(BundleLayout.signature, (t) => t.replace(/\n$/, ' \n')), expect: /^manifest\.yaml\.sig: signature file was altered/ },
  { name: 'a delta.yaml in a full bundle', damage: (d) => writeFile(join(d, BundleLayout.delta), 'carried: []\n'), expect: /^delta\.yaml: extra file, not in the manifest$/ },
];

describe('a bundle directory: every file is covered', () => {
  it.each(directoryRows)('reports $name, with a trusted key and without', async ({ damage, expect: pattern }) => {
    const dir = await copyOf(made.dir);
    await damage(dir);
    for (const trusted of [true, false]) {
      const problems = await problemsOf(dir, trusted);
      expect(problems.some((p) => pattern.test(p)), `${problems.join('\n')}\n should match ${pattern}`).toBe(true);
    }
  });

  it('says an intact signature was checked against the bundle’s own key, and that this proves no origin', async () => {
    const v = await verifyBundle(made.dir);
    expect(v.notes.join('\n')).toMatch(/signature intact \(by the bundle's own ferry\.pub, SHA256:\S+\), but its origin is not checked: pass --pubkey/);
  });
});

describe('a chunk set: the index and every chunk byte are covered', () => {
  const rows: { name: string; damage: (dir: string) => Promise<void>; expect: RegExp }[] = [
    { name: 'an extra chunk', damage: (d) => writeFile(join(d, 'ferry-bundle.tar.009'), Buffer.alloc(512)), expect: /^ferry-bundle\.tar\.009: extra chunk, not in ferry-bundle\.index\.yaml$/ },
    { name: 'a chunk checksum edited in the index', damage: edit(BundleLayout.chunkIndex, (t) => t.replace(/sha256: ([0-9a-f])/, (_m, c: string) => `sha256: ${c === '0' ? '1' : '0'}`)), expect: /^ferry-bundle\.index\.yaml: damaged: its content does not match its indexSha256$/ },
    { name: 'an index that is not YAML', damage: (d) => writeFile(join(d, BundleLayout.chunkIndex), 'chunks: [\n'), expect: /^ferry-bundle\.index\.yaml: damaged: its last line is not indexSha256/ },
    { name: 'a flipped byte in the tar padding after a file', damage: async (d) => {
      // The first file's data ends before a 512-byte boundary; the bytes up to it are padding the tar parser skips.
      const f = join(d, 'ferry-bundle.tar.000');
      const b = await readFile(f);
      const manifestSize = (await readFile(join(made.dir, BundleLayout.manifest))).length;
      const at = 512 + manifestSize + 1;
      expect(manifestSize % 512).not.toBe(0);
      b[at] = b[at]! ^ 0x20;
      await writeFile(f, b);
    }, expect: /^ferry-bundle\.tar\.000: checksum does not match the index$/ },
  ];
  it.each(rows)('reports $name', async ({ damage, expect: pattern }) => {
    const dir = await copyOf(chunks);
    await damage(dir);
    const problems = await problemsOf(dir, false);
    expect(problems.some((p) => pattern.test(p)), `${problems.join('\n')}\n should match ${pattern}`).toBe(true);
  });

  it('exits 6, not 2, on a damaged index, and when the index is gone', async () => {
    const dir = await copyOf(chunks);
    await appendFile(join(dir, BundleLayout.chunkIndex), 'x');
    const r = await runFerry('bundle', 'verify', dir);
    expect(r.code).toBe(6);
    expect(r.err).toContain('ferry-bundle.index.yaml: damaged');
    await rm(join(dir, BundleLayout.chunkIndex));
    const gone = await runFerry('bundle', 'verify', join(dir, 'ferry-bundle.tar.000'));
    expect(gone.code).toBe(6);
    expect(gone.err).toContain('ferry-bundle.index.yaml: missing');
  });
});

describe('trust flags', () => {
  it('refuses a private key as --pubkey (usage, exit 2) without printing it', async () => {
    const keyFile = join(work, 'private.key');
    await writeFile(keyFile, made.keys.privatePem);
    const r = await runFerry('bundle', 'verify', made.dir, '--pubkey', keyFile);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/private\.key: is a private key; pass the public key/);
    expect(r.err).not.toContain(made.keys.privatePem.split('\n')[1]!);
  });

  it.each(['SHA256:short', 'MD5:aa:bb', 'nonsense'])('refuses --fingerprint %s (usage, exit 2)', async (fp) => {
    const r = await runFerry('bundle', 'verify', made.dir, '--fingerprint', fp);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--fingerprint .*: not a key fingerprint/);
  });

  it('exits 6 when the ferry.pub --fingerprint must read is damaged', async () => {
    const dir = await copyOf(made.dir);
    await writeFile(join(dir, BundleLayout.publicKey), '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n');
    const r = await runFerry('bundle', 'verify', dir, '--fingerprint', fingerprint(made.publicKey));
    expect(r.code).toBe(6);
    expect(r.err).toContain('ferry.pub: not an ed25519 public key (damaged)');
  });

  it('accepts the bundle with the right fingerprint', async () => {
    const r = await runFerry('bundle', 'verify', made.dir, '--fingerprint', fingerprint(made.publicKey));
    expect(r.code, r.err).toBe(0);
  });
});

describe('fuzz: a random flipped byte anywhere is found (exit 6)', () => {
  const SEED = 7;
  const PER_FILE = 2;

  it('in every file of a signed bundle directory, with and without a trusted key', async () => {
    const rnd = seededRandom(SEED);
    const { files } = await walk(made.dir);
    const started = Date.now();
    for (const rel of files) {
      const size = (await readFile(join(made.dir, rel))).length;
      if (size === 0) continue;
      for (let n = 0; n < PER_FILE && Date.now() - started < 5000; n++) {
        const dir = await copyOf(made.dir);
        const bytes = await readFile(join(dir, rel));
        const at = rnd.int(bytes.length);
        bytes[at] = bytes[at]! ^ (1 + rnd.int(255));
        await writeFile(join(dir, rel), bytes);
        for (const trusted of [true, false]) {
          const error = await verifyBundle(dir, { trustedKey: trusted ? made.publicKey : undefined }).then(() => undefined, (e: unknown) => e);
          expect(error, `${rel} byte ${at} (trusted: ${trusted}) was not found`).toBeInstanceOf(VerifyError);
          expect((error as VerifyError).exitCode).toBe(6);
        }
        await rm(dir, { recursive: true });
      }
    }
  }, 30_000);

  it('in every chunk and in the index of its chunk set', async () => {
    const rnd = seededRandom(SEED + 1);
    const names = (await readdir(chunks)).sort();
    for (const name of names) {
      for (let n = 0; n < PER_FILE * 2; n++) {
        const dir = await copyOf(chunks);
        const bytes = await readFile(join(dir, name));
        const at = rnd.int(bytes.length);
        bytes[at] = bytes[at]! ^ (1 + rnd.int(255));
        await writeFile(join(dir, name), bytes);
        const error = await verifyBundle(dir).then(() => undefined, (e: unknown) => e);
        expect(error, `${name} byte ${at} was not found`).toBeInstanceOf(VerifyError);
        await rm(dir, { recursive: true });
      }
    }
  }, 30_000);
});
