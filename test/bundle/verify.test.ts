import { appendFile, cp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VerifyError } from '../../src/errors.ts';
import { BundleLayout } from '../../src/bundle/layout.ts';
import { generateKeyPair, parsePrivateKey, parsePublicKey, signManifest } from '../../src/bundle/sign.ts';
import { verifyBundle } from '../../src/bundle/verify.ts';
import { makeBundle, tempDir } from './support/make-bundle.ts';

type Made = Awaited<ReturnType<typeof makeBundle>>;
let made: Made;
let work: string;

beforeAll(async () => {
  made = await makeBundle();
  work = await tempDir();
});
afterAll(async () => {
  await rm(made.dir, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

const blob = BundleLayout.imageBlob('a'.repeat(64));
const kubeadm = BundleLayout.file('kubernetes', '1.33.1', 'kubeadm');

async function flipByte(file: string, at: number) {
  const bytes = await readFile(file);
  bytes[at] = bytes[at]! ^ 0xff;
  await writeFile(file, bytes);
}

/** Each row damages a fresh copy of the bundle in one way and names the problem verify must report. */
const damages: { name: string; damage: (dir: string) => Promise<void>; trusted?: boolean; expect: RegExp[] }[] = [
  { name: 'a flipped byte in an image blob', damage: (d) => flipByte(join(d, blob), 12_345), expect: [/^images\/blobs\/sha256\/a{64}: content changed/] },
  { name: 'a missing file', damage: (d) => rm(join(d, kubeadm)), expect: [/kubeadm: missing$/] },
  { name: 'a missing empty file', damage: (d) => rm(join(d, 'manifests/calico/3.30.2/calico.yaml')), expect: [/calico.yaml: missing$/] },
  { name: 'a truncated file', damage: (d) => truncate(join(d, kubeadm), 1000), expect: [/kubeadm: truncated \(1000 of 90000 bytes\)/] },
  { name: 'bytes appended to a file', damage: (d) => appendFile(join(d, blob), 'x'), expect: [/a{64}: longer than the manifest says \(70001 bytes/] },
  { name: 'an extra file', damage: (d) => writeFile(join(d, 'files/evil.sh'), '#!/bin/sh\n'), expect: [/^files\/evil.sh: extra file, not in the manifest$/] },
  {
    name: 'an edited SHA256SUMS line',
    damage: async (d) => writeFile(join(d, 'SHA256SUMS'), (await readFile(join(d, 'SHA256SUMS'), 'utf8')).replace(/^[0-9a-f]{64}(?=  files\/)/m, '0'.repeat(64))),
    expect: [/^SHA256SUMS: disagrees with the manifest on files\/kubernetes\/1.33.1\/kubeadm$/],
  },
  { name: 'a changed lock document', damage: (d) => appendFile(join(d, 'ferry.lock.yaml'), '# edited\n'), expect: [/^ferry.lock.yaml: longer/] },
  { name: 'no manifest at all', damage: (d) => rm(join(d, 'manifest.yaml')), expect: [/^manifest.yaml: missing/] },
  {
    name: 'a manifest edited to match a swapped file (the signature catches it)',
    trusted: true,
    damage: async (d) => {
      const m = await readFile(join(d, 'manifest.yaml'), 'utf8');
      await writeFile(join(d, 'manifest.yaml'), m.replace('source: test://random/files', 'source: https://evil.example/files'));
    },
    expect: [/^manifest.yaml.sig: signature does not match/],
  },
  { name: 'a removed signature when a key is trusted', trusted: true, damage: (d) => rm(join(d, 'manifest.yaml.sig')), expect: [/^manifest.yaml.sig: missing/] },
  {
    name: 'a signature by another key',
    trusted: true,
    damage: async (d) => {
      const other = parsePrivateKey(generateKeyPair().privatePem, 'other.key');
      await writeFile(join(d, 'manifest.yaml.sig'), signManifest(await readFile(join(d, 'manifest.yaml')), other));
    },
    expect: [/^manifest.yaml.sig: signature does not match .*signed by SHA256:/],
  },
];

describe('verifyBundle on a directory', () => {
  it('passes an intact signed bundle and names the signer', async () => {
    const v = await verifyBundle(made.dir, { trustedKey: made.publicKey });
    expect(v.ok).toBe(true);
    expect(v.form).toBe('directory');
    expect(v.checkedFiles).toBe(9);
    expect(v.signer).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it('says the signature was not checked when no key is trusted', async () => {
    const v = await verifyBundle(made.dir);
    expect(v.signer).toBeUndefined();
    expect(v.notes.join('\n')).toMatch(/not checked: pass --pubkey/);
  });

  it.each(damages)('reports $name', async ({ damage, trusted, expect: patterns }) => {
    const copy = join(work, `copy-${Math.random().toString(36).slice(2)}`);
    await cp(made.dir, copy, { recursive: true });
    await damage(copy);
    const error = await verifyBundle(copy, { trustedKey: trusted ? made.publicKey : undefined }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VerifyError);
    const problems = (error as VerifyError).problems;
    for (const p of patterns) expect(problems.some((line) => p.test(line)), `${problems.join('\n')}\n should match ${p}`).toBe(true);
  });

  it('reports every bad file at once, not just the first', async () => {
    const copy = join(work, 'many');
    await cp(made.dir, copy, { recursive: true });
    await rm(join(copy, kubeadm));
    await flipByte(join(copy, blob), 1);
    await writeFile(join(copy, 'stray'), 'x');
    const error = (await verifyBundle(copy).catch((e: unknown) => e)) as VerifyError;
    expect(error.problems).toHaveLength(3);
    expect(error.exitCode).toBe(6);
  });

  it('trusts a public key given in OpenSSH form as well as PEM', async () => {
    const ssh = made.publicKey.export({ format: 'jwk' }).x!;
    const blobHex = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), Buffer.from(ssh, 'base64url')]);
    const key = parsePublicKey(`ssh-ed25519 ${blobHex.toString('base64')} test@ferry\n`, 'test.pub');
    expect((await verifyBundle(made.dir, { trustedKey: key })).signer).toBeDefined();
  });
});
