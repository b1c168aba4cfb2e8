// The join credentials of a kubeadm cluster, made and checked on the admin host: the bootstrap token
// ([a-z0-9]{6}.[a-z0-9]{16}), the certificate key (32 random bytes, hex) that encrypts the uploaded control-plane
// certificates, the CA pin (sha256 of the CA's DER SubjectPublicKeyInfo) and the 2-hour life of uploaded certs.
import { createHash, randomInt, randomBytes, X509Certificate } from 'node:crypto';
import { UserError } from '../../errors.ts';

const TOKEN_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** kubeadm deletes the kubeadm-certs Secret two hours after upload (kubeadm init phase upload-certs). */
export const UPLOADED_CERTS_TTL_MS = 2 * 60 * 60 * 1000;
/** Re-upload this long before the deadline, so a join that starts just in time still finds the certs. */
export const UPLOAD_MARGIN_MS = 15 * 60 * 1000;

/** A new bootstrap token from a CSPRNG (each character uniformly from [a-z0-9]). */
export function newBootstrapToken(): string {
  const pick = (n: number) => Array.from({ length: n }, () => TOKEN_ALPHABET[randomInt(TOKEN_ALPHABET.length)]).join('');
  return `${pick(6)}.${pick(16)}`;
}

/** A new certificate key: 32 random bytes as 64 lowercase hex characters, as `kubeadm certs certificate-key` prints. */
export function newCertificateKey(): string {
  return randomBytes(32).toString('hex');
}

/** The public id of a token (the part before the dot): what `kubeadm token delete` and `token list` name. */
export function tokenId(token: string): string {
  const m = /^([a-z0-9]{6})\.[a-z0-9]{16}$/.exec(token);
  if (!m) throw new UserError('the bootstrap token must match [a-z0-9]{6}.[a-z0-9]{16}');
  return m[1]!;
}

/** `sha256:<hex>` of the CA certificate's DER SubjectPublicKeyInfo: kubeadm's discovery.caCertHashes pin. */
export function caCertHash(pem: string): string {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (error) {
    throw new UserError(`the cluster CA is not a PEM certificate (${(error as Error).message})`, { cause: error });
  }
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}

/** Whether certificates uploaded at `uploadedAt` must be uploaded again before a control-plane join at `now`. */
export function certsNeedUpload(uploadedAt: Date | undefined, now: Date): boolean {
  if (!uploadedAt || Number.isNaN(uploadedAt.getTime())) return true;
  const age = now.getTime() - uploadedAt.getTime();
  return age < 0 || age >= UPLOADED_CERTS_TTL_MS - UPLOAD_MARGIN_MS;
}

/** Token ids listed by `kubeadm token list -o json` (one JSON object per token, as kubeadm prints them); the secret
 * half may already be redacted in the output. */
export function listedTokenIds(output: string): string[] {
  return [...output.matchAll(/"token"\s*:\s*"([a-z0-9]{6})\./g)].map((m) => m[1]!);
}

/** The secret half of a token: what must never be printed (the id before the dot is a public name, as kubeadm treats it). */
export function tokenSecret(token: string): string {
  tokenId(token);
  return token.slice(7);
}
