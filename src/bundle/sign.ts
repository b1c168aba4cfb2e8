// ed25519 keys and signatures over manifest.yaml (node:crypto). Keys are read as PEM or OpenSSH; never printed.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { parse, stringify } from 'yaml';
import { UserError } from '../errors.ts';

export interface KeyPairPem {
  privatePem: string;
  publicPem: string;
}

/** Makes a fresh ed25519 key pair as PEM text (PKCS#8 private, SPKI public), for `ferry key generate`. */
export function generateKeyPair(): KeyPairPem {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** Reads an SSH wire-format string (uint32 length + bytes) at `offset`. */
function readSshString(buf: Buffer, offset: number): { value: Buffer; next: number } {
  if (offset + 4 > buf.length) throw new Error('truncated');
  const len = buf.readUInt32BE(offset);
  if (offset + 4 + len > buf.length) throw new Error('truncated');
  return { value: buf.subarray(offset + 4, offset + 4 + len), next: offset + 4 + len };
}

function sshString(value: Buffer | string): Buffer {
  const b = typeof value === 'string' ? Buffer.from(value) : value;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

const b64url = (b: Buffer) => b.toString('base64url');

function openSshPrivate(text: string, file: string): KeyObject {
  const body = text.replace(/-----(BEGIN|END) OPENSSH PRIVATE KEY-----/g, '').replace(/\s+/g, '');
  const buf = Buffer.from(body, 'base64');
  const magic = 'openssh-key-v1\0';
  if (buf.subarray(0, magic.length).toString('latin1') !== magic) throw new UserError(`${file}: not an OpenSSH private key`);
  let at = magic.length;
  const cipher = readSshString(buf, at);
  if (cipher.value.toString() !== 'none')
    throw new UserError(`${file}: the key is passphrase-protected`, { hint: 'use an unencrypted key file kept offline, or `ferry key generate`' });
  at = readSshString(buf, readSshString(buf, cipher.next).next).next; // kdfname, kdfoptions
  at += 4; // number of keys (one)
  at = readSshString(buf, at).next; // public key blob
  const priv = readSshString(buf, at).value;
  const type = readSshString(priv, 8); // after two check integers
  if (type.value.toString() !== 'ssh-ed25519') throw new UserError(`${file}: key type ${type.value.toString()} is not ed25519`);
  const pub = readSshString(priv, type.next);
  const secret = readSshString(priv, pub.next).value;
  return createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: b64url(secret.subarray(0, 32)), x: b64url(pub.value) }, format: 'jwk' });
}

/** Reads a private ed25519 key from PEM (PKCS#8) or OpenSSH text; errors never include key material. */
export function parsePrivateKey(text: string, file: string): KeyObject {
  let key: KeyObject;
  try {
    key = text.includes('OPENSSH PRIVATE KEY') ? openSshPrivate(text, file) : createPrivateKey({ key: text, format: 'pem' });
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`${file}: not a PEM or OpenSSH private key`, { hint: 'create one with `ferry key generate --out DIR`' });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new UserError(`${file}: key type ${key.asymmetricKeyType} is not ed25519`);
  return key;
}

/** Reads a public ed25519 key from PEM (SPKI) or an OpenSSH `ssh-ed25519 AAAA...` line; a private key is refused. */
export function parsePublicKey(text: string, file: string): KeyObject {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text))
    throw new UserError(`${file}: is a private key; pass the public key (ferry.pub, or the .pub beside an OpenSSH key)`, {
      hint: 'the private key stays on the build host; the far side only ever needs the public half',
    });
  let key: KeyObject;
  try {
    const ssh = /^\s*ssh-ed25519\s+([A-Za-z0-9+/=]+)/.exec(text);
    if (ssh) {
      if (!canonicalBase64(ssh[1]!)) throw new Error('bad base64');
      const blob = Buffer.from(ssh[1]!, 'base64');
      const type = readSshString(blob, 0);
      const pub = readSshString(blob, type.next).value;
      if (type.value.toString() !== 'ssh-ed25519' || pub.length !== 32 || type.next + 4 + 32 !== blob.length) throw new Error('bad blob');
      key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(pub) }, format: 'jwk' });
    } else {
      if (!/^\s*-----BEGIN PUBLIC KEY-----\r?\n[A-Za-z0-9+/=\r\n]+-----END PUBLIC KEY-----\s*$/.test(text)) throw new Error('not a PEM public key');
      key = createPublicKey({ key: text, format: 'pem' });
    }
  } catch {
    throw new UserError(`${file}: not a PEM or OpenSSH ed25519 public key`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new UserError(`${file}: key type ${key.asymmetricKeyType} is not ed25519`);
  return key;
}

/** Whether `text` is base64 exactly as an encoder writes it (padding included), so damaged padding is not ignored. */
export function canonicalBase64(text: string): boolean {
  return /^[A-Za-z0-9+/]*={0,2}$/.test(text) && text.length % 4 === 0 && Buffer.from(text, 'base64').toString('base64') === text;
}

/** A fingerprint as `ferry key fingerprint` and `ssh-keygen -l` print it: SHA256: and 43 base64 characters. */
export const FINGERPRINT_PATTERN = /^SHA256:[A-Za-z0-9+/]{43}$/;

/** The key's fingerprint as `ssh-keygen -l` prints it (SHA256:base64), so people can compare keys by ear. */
export function fingerprint(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const raw = Buffer.from(pub.export({ format: 'jwk' }).x!, 'base64url');
  const blob = Buffer.concat([sshString('ssh-ed25519'), sshString(raw)]);
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Signs the manifest bytes; returns the text of manifest.yaml.sig. */
export function signManifest(manifestBytes: Uint8Array, privateKey: KeyObject): string {
  const signature = sign(null, manifestBytes, privateKey).toString('base64');
  return stringify({ algorithm: 'ed25519', keyFingerprint: fingerprint(privateKey), signature });
}

export type SignatureVerdict = { ok: true; keyFingerprint: string } | { ok: false; reason: string };

/**
 * Checks manifest.yaml.sig against a public key. The file must be exactly what signManifest writes (any other byte,
 * damaged base64 padding included, is damage), and its keyFingerprint must be the key's.
 */
export function checkSignature(manifestBytes: Uint8Array, sigText: string, publicKey: KeyObject): SignatureVerdict {
  let sig: { algorithm?: unknown; keyFingerprint?: unknown; signature?: unknown };
  try {
    sig = (parse(sigText) ?? {}) as typeof sig;
  } catch {
    return { ok: false, reason: 'signature file is not valid YAML' };
  }
  if (sig === null || typeof sig !== 'object' || sig.algorithm !== 'ed25519' || typeof sig.signature !== 'string') return { ok: false, reason: 'signature file has no ed25519 signature' };
  if (!canonicalBase64(sig.signature) || Buffer.from(sig.signature, 'base64').length !== 64) return { ok: false, reason: 'signature is not 64 bytes of base64 with its padding intact' };
  if (stringify({ algorithm: sig.algorithm, keyFingerprint: sig.keyFingerprint, signature: sig.signature }) !== sigText)
    return { ok: false, reason: 'signature file was altered (it is not byte for byte what ferry writes)' };
  const want = fingerprint(publicKey);
  if (!verify(null, manifestBytes, publicKey, Buffer.from(sig.signature, 'base64'))) {
    const who = sig.keyFingerprint === want ? '' : ` (signed by ${String(sig.keyFingerprint)}, trusted key is ${want})`;
    return { ok: false, reason: `signature does not match the manifest and the trusted key${who}` };
  }
  if (sig.keyFingerprint !== want) return { ok: false, reason: `keyFingerprint ${String(sig.keyFingerprint)} is not the signing key's ${want}` };
  return { ok: true, keyFingerprint: want };
}
