// ferry's registry CA must be trusted by its own registry traffic (seeding, verify) without skip-verify:
// Node's fetch uses the process's default CA set, so the CA is added to it (tls.setDefaultCACertificates, Node ≥ 22.19).
import { getCACertificates, setDefaultCACertificates } from 'node:tls';

/** Adds `caPem` to the CAs this process trusts for TLS (idempotent). */
export function trustRegistryCa(caPem: string): void {
  const current = getCACertificates('default');
  const pem = caPem.trim();
  if (current.some((c) => c.trim() === pem)) return;
  setDefaultCACertificates([...current, pem]);
}
