import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { checkSignature, fingerprint, generateKeyPair, parsePrivateKey, parsePublicKey, signManifest } from '../../src/bundle/sign.ts';
import { tempDir } from './support/make-bundle.ts';

let dir: string;
beforeAll(async () => {
  dir = await tempDir('ferry-sign-test-');
  // A real OpenSSH ed25519 key pair, made by ssh-keygen at test time (never committed).
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ferry-test', '-f', join(dir, 'id_ed25519')]);
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret-pass', '-f', join(dir, 'id_locked')]);
  await execa('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-f', join(dir, 'id_rsa')]);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const manifest = Buffer.from('apiVersion: ferry.dev/v1alpha1\nkind: BundleManifest\n');

describe('ed25519 signatures', () => {
  it('signs with a generated PEM key and verifies with its public key, and no other', () => {
    const a = generateKeyPair();
    const b = generateKeyPair();
    const sig = signManifest(manifest, parsePrivateKey(a.privatePem, 'a.key'));
    expect(checkSignature(manifest, sig, parsePublicKey(a.publicPem, 'a.pub'))).toMatchObject({ ok: true });
    expect(checkSignature(manifest, sig, parsePublicKey(b.publicPem, 'b.pub'))).toMatchObject({ ok: false });
    expect(checkSignature(Buffer.concat([manifest, Buffer.from(' ')]), sig, parsePublicKey(a.publicPem, 'a.pub'))).toMatchObject({ ok: false });
  });

  it('reads OpenSSH private and public keys, with the fingerprint ssh-keygen -l prints', async () => {
    const priv = parsePrivateKey(await readFile(join(dir, 'id_ed25519'), 'utf8'), 'id_ed25519');
    const pub = parsePublicKey(await readFile(join(dir, 'id_ed25519.pub'), 'utf8'), 'id_ed25519.pub');
    const sshFp = (await execa('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, 'id_ed25519.pub')])).stdout.split(' ')[1];
    expect(fingerprint(pub)).toBe(sshFp);
    expect(fingerprint(priv)).toBe(sshFp);
    expect(checkSignature(manifest, signManifest(manifest, priv), pub)).toEqual({ ok: true, keyFingerprint: sshFp });
  });

  it('writes signatures that openssl verifies on its own (checking a bundle before ferry runs there)', async () => {
    const pair = generateKeyPair();
    await writeFile(join(dir, 'm.yaml'), manifest);
    await writeFile(join(dir, 'k.pub'), pair.publicPem);
    const sigText = signManifest(manifest, parsePrivateKey(pair.privatePem, 'k'));
    await writeFile(join(dir, 'm.sig'), Buffer.from(/^signature: (.+)$/m.exec(sigText)![1]!, 'base64'));
    const check = ['pkeyutl', '-verify', '-pubin', '-inkey', join(dir, 'k.pub'), '-rawin', '-in', join(dir, 'm.yaml'), '-sigfile', join(dir, 'm.sig')];
    expect((await execa('openssl', check)).stdout).toMatch(/Signature Verified Successfully/);
    await writeFile(join(dir, 'm.yaml'), Buffer.concat([manifest, Buffer.from('#')]));
    expect((await execa('openssl', check, { reject: false })).exitCode).not.toBe(0);
  });

  it.each([
    ['a passphrase-protected OpenSSH key', 'id_locked', /passphrase-protected/],
    ['an RSA key', 'id_rsa', /not ed25519/],
  ])('refuses %s without printing its content', async (_name, file, pattern) => {
    const text = await readFile(join(dir, file), 'utf8');
    const error = (() => {
      try {
        parsePrivateKey(text, file);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(UserError);
    expect(error!.message).toMatch(pattern);
    expect(error!.message).not.toContain(text.split('\n')[1]!.slice(0, 20));
  });

  it.each([
    ['garbage', 'not a key'],
    ['a truncated PEM', generateKeyPair().publicPem.slice(0, 60)],
  ])('refuses %s as a public key', (_name, text) => expect(() => parsePublicKey(text, 'x.pub')).toThrow(UserError));

  it.each([
    ['an empty file', ''],
    ['a file without a signature', 'algorithm: ed25519\n'],
    ['a short signature', 'algorithm: ed25519\nsignature: AAAA\n'],
    ['broken YAML', 'a: [\n'],
  ])('rejects %s as a signature', (_name, sigText) => {
    const k = generateKeyPair();
    expect(checkSignature(manifest, sigText, parsePublicKey(k.publicPem, 'k.pub')).ok).toBe(false);
  });
});
